"""The local outbox pages list what the Maildir mailer wrote and show one message safely."""

from __future__ import annotations

import html
import mailbox
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from activities.mail.message import build_message
from learningday.contracts.mail import Email
from learningday.db.models import Role
from learningday.settings import Settings
from learningday.web.access import Viewer
from learningday.web.auth import signed_in
from learningday.web.outbox import router


def write(maildir: mailbox.Maildir, key: str, subject: str, date: str, html_body: str = "<p>Hi</p>") -> str:
    message = build_message(
        Email(key=key, to=["maria@example.com"], subject=subject, text=f"Text of {subject}", html=html_body),
        "Learning Day <ld@example.com>",
        "0123456789abcdef0123456789abcdef",
    )
    message.replace_header("Date", date)
    return maildir.add(message)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def viewer(role: Role) -> Viewer:
    return Viewer(person_id=1, email="owner@example.com", name="Owner", role=role, manages=False)


def outbox_app(home: Path, signed_in_as: Role | None) -> TestClient:
    app = FastAPI()
    app.state.settings = Settings(_env_file=None, data_dir=home)  # type: ignore[call-arg]
    app.include_router(router)
    if signed_in_as is not None:
        app.dependency_overrides[signed_in] = lambda: viewer(signed_in_as)
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def client(home: Path) -> TestClient:
    return outbox_app(home, signed_in_as=Role.admin)


def test_only_admins_read_the_outbox_it_holds_everyones_sign_in_links(home: Path, outbox: mailbox.Maildir) -> None:
    key = write(outbox, "signin:1", "Your sign-in link", "Tue, 24 Nov 2026 09:00:00 +0000")

    anonymous = outbox_app(home, signed_in_as=None)
    assert anonymous.get("/outbox").status_code == 303  # to the sign-in page
    learner = outbox_app(home, signed_in_as=Role.learner)
    assert learner.get("/outbox").status_code == 404
    assert learner.get(f"/outbox/{key}").status_code == 404
    assert learner.get(f"/outbox/{key}/html").status_code == 404
    assert anonymous.get(f"/outbox/{key}/html").status_code == 303
    assert outbox_app(home, signed_in_as=Role.admin).get(f"/outbox/{key}").status_code == 200
    assert outbox_app(home, signed_in_as=Role.admin).get(f"/outbox/{key}/html").status_code == 200


@pytest.fixture
def outbox(home: Path) -> mailbox.Maildir:
    return mailbox.Maildir(home / "outbox", create=True)


def test_an_empty_or_missing_outbox_says_nothing_was_sent(client: TestClient) -> None:
    response = client.get("/outbox")
    assert response.status_code == 200
    assert "Nothing sent yet." in response.text


def test_the_list_shows_date_recipient_and_subject_newest_first(client: TestClient, outbox: mailbox.Maildir) -> None:
    write(outbox, "a", "Older digest", "Mon, 16 Nov 2026 08:00:00 +0000")
    newest = write(outbox, "b", "Newest flag", "Thu, 19 Nov 2026 18:30:00 +0000")
    write(outbox, "c", "Middle claim", "Tue, 17 Nov 2026 12:00:00 +0000")

    page = client.get("/outbox").text

    subjects = re.findall(r'<a href="/outbox/[^"]+">([^<]+)</a>', page)
    assert subjects == ["Newest flag", "Middle claim", "Older digest"]
    assert "2026-11-19 18:30" in page
    assert "maria@example.com" in page
    assert f'href="/outbox/{newest}"' in page


def test_one_message_shows_headers_html_in_a_sandboxed_iframe_and_the_text(
    client: TestClient, outbox: mailbox.Maildir
) -> None:
    key = write(
        outbox,
        "flag:1",
        "Bob: used for work",
        "Thu, 19 Nov 2026 18:30:00 +0000",
        html_body='<p>Plan &amp; summary</p><script>alert("x")</script>',
    )

    response = client.get(f"/outbox/{key}")

    assert response.status_code == 200
    page = response.text
    assert "<h1>Bob: used for work</h1>" in page
    assert "maria@example.com" in page
    [iframe] = re.findall(r"<iframe[^>]*>", page)
    assert re.search(r"\ssandbox\s", iframe)
    src = re.search(r'src="([^"]*)"', iframe)
    assert src is not None
    assert "<script>" not in page
    assert "Text of Bob: used for work" in page

    # The frame's document is the email's HTML as sent, under a policy of its own: sandboxed (no
    # script runs, opaque origin), inline styles allowed, framed by this origin only.
    framed = client.get(html.unescape(src.group(1)))
    assert framed.status_code == 200
    assert framed.text.strip() == '<p>Plan &amp; summary</p><script>alert("x")</script>'
    policy = framed.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script-src" not in policy
    assert "style-src 'unsafe-inline'" in policy and "frame-ancestors 'self'" in policy
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert framed.headers["cache-control"] == "no-store"


def test_an_unknown_message_is_a_404_naming_the_key(client: TestClient, outbox: mailbox.Maildir) -> None:
    response = client.get("/outbox/1700000000.M1P1Q1.nowhere")
    assert response.status_code == 404
    assert "1700000000.M1P1Q1.nowhere" in response.json()["detail"]


def frame_height(page: str) -> int:
    [iframe] = re.findall(r"<iframe[^>]*>", page)
    height = re.search(r'\sheight="(\d+)"', iframe)
    assert height is not None, f"the frame has no height of its own: {iframe}"
    return int(height.group(1))


def test_the_frame_is_as_tall_as_the_email_it_shows(client: TestClient, outbox: mailbox.Maildir) -> None:
    short = write(outbox, "signin:1", "Your sign-in link", "Thu, 19 Nov 2026 18:30:00 +0000")
    paragraphs = "".join(f"<p>Paragraph {n}: {'words ' * 30}</p>" for n in range(20))
    long = write(outbox, "digest:1", "Weekly digest", "Thu, 19 Nov 2026 18:30:00 +0000", html_body=paragraphs)

    short_frame, long_frame = (
        frame_height(client.get(f"/outbox/{short}").text),
        frame_height(client.get(f"/outbox/{long}").text),
    )

    assert long_frame > short_frame
    assert long_frame >= 20 * 2 * 22  # twenty paragraphs of two lines or more, at 15 px type


def test_the_page_links_the_email_on_its_own_for_reading_it_whole(client: TestClient, outbox: mailbox.Maildir) -> None:
    key = write(outbox, "flag:1", "Bob: used for work", "Thu, 19 Nov 2026 18:30:00 +0000")

    page = client.get(f"/outbox/{key}").text

    assert re.search(rf'<a href="/outbox/{re.escape(key)}/html"[^>]*>Open the email on its own</a>', page)


def test_the_outbox_pages_keep_the_navigation_and_sign_out_of_every_page(
    client: TestClient, outbox: mailbox.Maildir
) -> None:
    key = write(outbox, "flag:1", "Bob: used for work", "Thu, 19 Nov 2026 18:30:00 +0000")

    for path in ("/outbox", f"/outbox/{key}"):
        page = client.get(path).text
        assert '<a href="/outbox" class="active">Outbox</a>' in page, path
        assert '<a href="/me"' in page and "Owner · admin" in page, path
        assert re.search(
            r'<form method="post" action="/auth/logout"><input type="hidden" name="csrf_token" value="[^"]+">', page
        ), path
