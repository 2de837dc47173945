"""Sign-in mail is rate limited per address and per client IP, counted in the database (so the
limit holds across web replicas). Over a limit the page answers exactly as usual — it never says
whether the address exists — and nothing is sent."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from activities.mail.factory import mailer_from_settings
from learningday.db.models import SignInRequest
from learningday.settings import get_settings
from tests.web.conftest import CSRF_FIELD, Org, form_token

SENT = "a sign-in link is on its way"


def mails_to(data_dir: Path, address: str) -> int:
    new = data_dir / "outbox" / "new"
    return sum(address in p.read_text() for p in new.iterdir()) if new.exists() else 0


def ask(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    _, token = form_token(client.get("/auth/login").text)
    response = client.post("/auth/login", data={"email": email, "csrf_token": token})
    assert response.status_code == 200 and SENT in response.text
    return response


def test_the_defaults_are_three_per_address_and_twenty_per_ip_in_fifteen_minutes() -> None:
    settings = get_settings()
    assert (
        settings.sign_in_limit_per_address,
        settings.sign_in_limit_per_ip,
        settings.sign_in_limit_window_minutes,
    ) == (3, 20, 15)
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in (
        "LEARNINGDAY_SIGN_IN_LIMIT_PER_ADDRESS",
        "LEARNINGDAY_SIGN_IN_LIMIT_PER_IP",
        "LEARNINGDAY_SIGN_IN_LIMIT_WINDOW_MINUTES",
    ):
        assert name in example


def test_thirty_requests_for_one_address_send_three_links(client: TestClient, org: Org, data_dir: Path) -> None:
    before = mails_to(data_dir, "alan@example.com")
    pages = {without_token(ask(client, "alan@example.com").text) for _ in range(30)}
    assert mails_to(data_dir, "alan@example.com") - before == 3
    assert len(pages) == 1  # the 4th to 30th answer like the first three


def test_over_the_limit_the_page_is_the_same_for_known_and_unknown_addresses(client: TestClient, org: Org) -> None:
    sent = ask(client, "alan@example.com")
    for _ in range(3):
        over_the_limit = ask(client, "alan@example.com")
    unknown = ask(client, "mallory@example.com")
    for _ in range(3):
        unknown_over_the_limit = ask(client, "mallory@example.com")
    pages = {without_token(r.text) for r in (sent, over_the_limit, unknown, unknown_over_the_limit)}
    assert len(pages) == 1


def without_token(page: str) -> str:
    return CSRF_FIELD.sub("", page)


def test_the_limit_holds_across_web_replicas(app: FastAPI, engine, gateway, org: Org, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from learningday.web.app import create_app

    other_app = create_app(get_settings(), gateway, mailer_from_settings)
    before = mails_to(data_dir, "alan@example.com")
    with (
        TestClient(app, base_url="http://127.0.0.1:8000") as one,
        TestClient(other_app, base_url="http://127.0.0.1:8000") as two,
    ):
        for _ in range(3):
            ask(one, "alan@example.com")
            ask(two, "alan@example.com")
    assert mails_to(data_dir, "alan@example.com") - before == 3


def test_one_client_ip_asking_for_many_addresses_is_limited(
    client: TestClient,
    org: Org,
    data_dir: Path,
    auth_mode,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    auth_mode(sign_in_limit_per_ip="4")
    for n in range(4):
        ask(client, f"nobody{n}@example.com")
    before = mails_to(data_dir, "grace@example.com")
    ask(client, "grace@example.com")
    assert mails_to(data_dir, "grace@example.com") == before  # the fifth request from this IP
    session.expire_all()
    assert {r.client_ip for r in session.scalars(select(SignInRequest))} == {"testclient"}


def test_the_limit_lifts_when_the_window_has_passed(
    client: TestClient, org: Org, data_dir: Path, session: Session
) -> None:
    for _ in range(4):
        ask(client, "alan@example.com")
    before = mails_to(data_dir, "alan@example.com")
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    session.execute(update(SignInRequest).values(requested_at=earlier))
    session.commit()
    ask(client, "alan@example.com")
    assert mails_to(data_dir, "alan@example.com") == before + 1


def test_requests_are_stored_without_the_address_and_refusals_logged_with_ids_only(
    client: TestClient, org: Org, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(4):
            ask(client, "Alan@Example.com")
    session.expire_all()
    rows = session.scalars(select(SignInRequest)).all()
    assert len(rows) == 4 and len({r.address_hash for r in rows}) == 1
    assert all("alan" not in r.address_hash.lower() for r in rows)
    refused = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert len(refused) == 1 and "per-address" in refused[0]
    assert not [r for r in caplog.records if "example.com" in r.getMessage()]
