"""Signing in: links that work once and expire, a session cookie that cannot be forged, a
proxy header trusted only when configured, and CSRF tokens on every cookie-authenticated form.
A browser opens a link's page before pressing its button: `press` does both."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from learningday.db.models import CheckIn, DayState
from learningday.web.auth import SESSION_COOKIE, login_token
from tests.web.conftest import THURSDAY, FakeGateway, Org, add_day, form_token, sign_in


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF field"
    return match.group(1)


def press(client: TestClient, token: str, **data: str):  # type: ignore[no-untyped-def]
    """Open a sign-in link's page and press its button, as a browser does."""
    page = client.get(f"/auth/link/{token}")
    fields = dict([form_token(page.text)]) if page.status_code == 200 else {}
    return client.post(f"/auth/link/{token}", data={**fields, **data})


def test_a_sign_in_link_shows_a_button_and_signs_in_only_when_pressed(client: TestClient, org: Org) -> None:
    token = login_token(org.alan.id)
    shown = client.get(f"/auth/link/{token}")
    assert shown.status_code == 200 and "Sign in as Alan Learner" in shown.text
    assert SESSION_COOKIE not in client.cookies  # a mail scanner's GET signs nobody in
    pressed = client.post(f"/auth/link/{token}", data={"next": "/me", "csrf_token": csrf_of(shown.text)})
    assert (pressed.status_code, pressed.headers["location"]) == (303, "/me")
    cookie = pressed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert client.get("/me").status_code == 200


def test_a_sign_in_link_works_once(client: TestClient, org: Org) -> None:
    token = login_token(org.alan.id)
    assert press(client, token).status_code == 303
    client.cookies.clear()
    again = press(client, token)
    assert again.status_code == 400 and "already been used" in again.text
    assert client.get("/me").status_code == 303


def test_a_tampered_link_is_refused(client: TestClient, org: Org) -> None:
    token = login_token(org.alan.id)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for response in [client.get(f"/auth/link/{forged}"), client.post(f"/auth/link/{forged}")]:
        assert response.status_code == 400 and "not valid" in response.text
    other_key = URLSafeTimedSerializer("another-secret", salt="learningday.login").dumps({"p": org.ada.id, "n": "x"})
    assert client.post(f"/auth/link/{other_key}").status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_an_expired_link_is_refused(client: TestClient, org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: now - 31 * 60)  # made 31 minutes ago; links last 30
        token = login_token(org.alan.id)
    response = press(client, token)
    assert response.status_code == 400 and "expired" in response.text


def test_a_link_for_a_deactivated_person_signs_nobody_in(client: TestClient, org: Org, session: Session) -> None:
    token = login_token(org.linus.id)
    page = client.get(f"/auth/link/{token}").text  # opened while Linus was still active
    org.linus.active = False
    session.commit()
    assert client.get(f"/auth/link/{token}").status_code == 400
    pressed = client.post(f"/auth/link/{token}", data={"csrf_token": csrf_of(page)})
    assert pressed.status_code == 400 and SESSION_COOKIE not in client.cookies


def test_a_forged_session_cookie_is_ignored(client: TestClient, org: Org) -> None:
    forged = URLSafeTimedSerializer("guessed-secret", salt="learningday.session").dumps({"p": org.ada.id})
    client.cookies.set(SESSION_COOKIE, forged)
    assert client.get("/me").status_code == 303


def test_sign_in_redirects_only_within_the_site(client: TestClient, org: Org) -> None:
    for target, expected in [
        ("/archive?q=rust", "/archive?q=rust"),
        ("//evil.example/x", "/me"),
        ("https://evil.example", "/me"),
    ]:
        response = press(client, login_token(org.alan.id), next=target)
        assert response.headers["location"] == expected


def test_asking_for_a_link_answers_the_same_for_unknown_addresses(client: TestClient, org: Org, data_dir) -> None:  # type: ignore[no-untyped-def]
    _, token = form_token(client.get("/auth/login").text)
    known = client.post("/auth/login", data={"email": "Alan@Example.com", "csrf_token": token})
    unknown = client.post("/auth/login", data={"email": "mallory@example.com", "csrf_token": token})
    assert known.status_code == unknown.status_code == 200
    assert "a sign-in link is on its way" in known.text and "a sign-in link is on its way" in unknown.text
    mails = [p.read_text() for p in (data_dir / "outbox" / "new").iterdir()]
    links = [m for m in mails if "alan@example.com" in m and "/auth/link/" in m]
    assert links and not [m for m in mails if "mallory@" in m]


def test_header_mode_trusts_the_proxy_header(client: TestClient, org: Org, auth_mode) -> None:  # type: ignore[no-untyped-def]
    auth_mode(auth_mode="header", auth_header_name="X-Forwarded-Email")
    assert client.get("/me", headers={"X-Forwarded-Email": "grace@example.com"}).status_code == 200
    # IAP's "accounts.google.com:" prefix is understood.
    assert (
        client.get("/team", headers={"X-Forwarded-Email": "accounts.google.com:grace@example.com"}).status_code == 200
    )
    assert client.get("/me").status_code == 401
    assert client.get("/me", headers={"X-Forwarded-Email": "nobody@example.com"}).status_code == 401
    # A session cookie from link mode means nothing behind the proxy.
    client.cookies.set(SESSION_COOKIE, "x")
    assert client.get("/me").status_code == 401


def test_the_header_is_ignored_unless_header_mode_is_on(client: TestClient, org: Org) -> None:
    response = client.get("/me", headers={"X-Forwarded-Email": "ada@example.com"})
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/login")


def test_a_me_check_in_needs_the_csrf_token(
    client: TestClient, org: Org, session: Session, gateway: FakeGateway
) -> None:
    add_day(session, org.alan, THURSDAY, state=DayState.planning)
    session.commit()
    page = sign_in(client, org.alan).get("/me").text
    form = {"text": "Read about SAT solvers", "category": "fundamentals", "date": THURSDAY.isoformat()}
    refused = client.post("/me/checkin/plan", data=form)
    assert refused.status_code == 403 and not gateway.submissions
    wrong = client.post("/me/checkin/plan", data={**form, "csrf_token": "forged"})
    assert wrong.status_code == 403 and not gateway.submissions
    saved = client.post("/me/checkin/plan", data={**form, "csrf_token": csrf_of(page)})
    assert saved.status_code == 200 and "Plan saved." in saved.text
    assert [s.text for s in gateway.submissions] == ["Read about SAT solvers"]
    session.expire_all()
    assert session.query(CheckIn).filter_by(text="Read about SAT solvers").count() == 1


def test_one_persons_csrf_token_does_not_work_for_another(client: TestClient, org: Org) -> None:
    token = csrf_of(sign_in(client, org.alan).get("/me").text)
    client.cookies.clear()
    sign_in(client, org.linus)
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 403


def test_sign_out_needs_the_token_and_ends_the_session(client: TestClient, org: Org) -> None:
    page = sign_in(client, org.alan).get("/me").text
    assert client.post("/auth/logout").status_code == 403
    out = client.post("/auth/logout", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303
    assert client.get("/me").status_code == 303


@pytest.mark.parametrize("mode", ["sso", ""])
def test_an_unknown_auth_mode_is_an_error_naming_the_setting(
    client: TestClient, org: Org, auth_mode, mode: str
) -> None:  # type: ignore[no-untyped-def]
    auth_mode(auth_mode=mode or "none")
    with pytest.raises(ValueError, match="LEARNINGDAY_AUTH_MODE"):
        client.get("/me")
