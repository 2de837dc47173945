"""One CSRF scheme for every form: the GET that shows a form sets a random value in an HttpOnly,
SameSite=Strict cookie and puts a token derived from it in the form; a POST needs both. A form
posted from another site (no cookie), or with a token made for another page, is refused with a
403 page that says to reload, and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learningday.db.models import ClaimDecision, DayState, ExpenseClaim, Flag, UsedToken
from learningday.links.approval import ApprovalLink, approval_token
from learningday.links.checkin import checkin_token
from learningday.links.excuse import excuse_token
from learningday.web.auth import SESSION_COOKIE, login_token
from learningday.web.claims import claim_form_url
from learningday.web.csrf import FORM_COOKIE
from tests.web.conftest import THURSDAY, FakeGateway, Org, add_claim, add_day, add_flag, form_token, sign_in


def mails_to(data_dir, address: str) -> int:  # type: ignore[no-untyped-def]
    new = data_dir / "outbox" / "new"
    return sum(address in p.read_text() for p in new.iterdir()) if new.exists() else 0


@dataclass
class Form:
    """A page with a form, where it posts, what it posts, and how to tell nothing happened."""

    page: str
    action: str
    data: dict[str, str]
    unchanged: Callable[[], bool]
    signed_in: bool = False


@pytest.fixture
def forms(client: TestClient, org: Org, session: Session, gateway: FakeGateway, data_dir) -> dict[str, Form]:  # type: ignore[no-untyped-def]
    day = add_day(session, org.alan, THURSDAY, state=DayState.planning)
    flag = add_flag(session, day)
    session.commit()
    checkin = f"/checkin/{checkin_token(org.alan.id, THURSDAY)}"
    link = f"/auth/link/{login_token(org.linus.id)}"
    claim = "/claims/new/" + claim_form_url(org.alan.id).rsplit("/", 1)[1]
    excuse = f"/excuse/{excuse_token(flag.id, org.margaret.id)}"
    mails_before = mails_to(data_dir, "alan@example.com")

    def no_check_in() -> bool:
        return gateway.submissions == []

    def not_excused() -> bool:
        session.expire_all()
        return session.get(Flag, flag.id).excused_at is None  # type: ignore[union-attr]

    return {
        "me check-in": Form(
            "/me",
            "/me/checkin/plan",
            {"text": "SAT solvers", "category": "fundamentals", "date": THURSDAY.isoformat()},
            no_check_in,
            signed_in=True,
        ),
        "sign out": Form("/me", "/auth/logout", {}, lambda: client.get("/me").status_code == 200, signed_in=True),
        "check-in link": Form(
            checkin, f"{checkin}/plan", {"text": "SAT solvers", "category": "fundamentals"}, no_check_in
        ),
        "ask for a sign-in link": Form(
            "/auth/login",
            "/auth/login",
            {"email": "alan@example.com"},
            lambda: mails_to(data_dir, "alan@example.com") == mails_before,
        ),
        "sign-in link": Form(link, link, {"next": "/me"}, lambda: SESSION_COOKIE not in client.cookies),
        "claim form": Form(
            claim,
            claim,
            {"amount": "12.50", "currency": "USD", "category": "books", "description": "SICP"},
            lambda: session.scalar(select(func.count()).select_from(ExpenseClaim)) == 0,
        ),
        "excuse link": Form(excuse, excuse, {"reason": "Agreed"}, not_excused),
    }


FORMS = [
    "me check-in",
    "sign out",
    "check-in link",
    "ask for a sign-in link",
    "sign-in link",
    "claim form",
    "excuse link",
]


@pytest.mark.parametrize("name", FORMS)
def test_the_page_showing_a_form_sets_a_strict_http_only_cookie_and_puts_a_token_in_the_form(
    client: TestClient, org: Org, forms: dict[str, Form], name: str
) -> None:
    form = forms[name]
    if form.signed_in:
        sign_in(client, org.alan)
        client.cookies.delete(FORM_COOKIE)
    page = client.get(form.page)
    assert page.status_code == 200, page.text
    form_token(page.text)
    cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(f"{FORM_COOKIE}="))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie


@pytest.mark.parametrize("name", FORMS)
def test_a_form_posted_without_the_pages_cookie_is_refused_with_a_page_saying_reload(
    client: TestClient, org: Org, forms: dict[str, Form], name: str
) -> None:
    """What a cross-site form does: the browser leaves the SameSite=Strict cookie behind."""
    form = forms[name]
    if form.signed_in:
        sign_in(client, org.alan)
    field, token = form_token(client.get(form.page).text)
    client.cookies.delete(FORM_COOKIE)
    refused = client.post(form.action, data={**form.data, field: token})
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert "reload" in refused.text.lower()
    assert form.unchanged()


@pytest.mark.parametrize("name", FORMS)
def test_a_form_posted_without_its_token_is_refused(
    client: TestClient, org: Org, forms: dict[str, Form], name: str
) -> None:
    form = forms[name]
    if form.signed_in:
        sign_in(client, org.alan)
    client.get(form.page)
    for token in ({}, {"csrf_token": "forged"}, {"csrf": "forged"}):
        refused = client.post(form.action, data={**form.data, **token})
        assert refused.status_code == 403, refused.text
    assert form.unchanged()


def test_a_token_made_for_one_link_does_not_pass_on_another(
    client: TestClient, org: Org, session: Session, gateway: FakeGateway
) -> None:
    for date in (THURSDAY, THURSDAY - dt.timedelta(weeks=1)):
        add_day(session, org.alan, date, state=DayState.planning)
    session.commit()
    this_week = f"/checkin/{checkin_token(org.alan.id, THURSDAY)}"
    last_week = f"/checkin/{checkin_token(org.alan.id, THURSDAY - dt.timedelta(weeks=1))}"
    _, token = form_token(client.get(this_week).text)
    refused = client.post(f"{last_week}/plan", data={"text": "x", "category": "papers", "csrf_token": token})
    assert refused.status_code == 403 and gateway.submissions == []
    saved = client.post(f"{this_week}/plan", data={"text": "x", "category": "papers", "csrf_token": token})
    assert saved.status_code == 200 and "Plan saved." in saved.text


def test_an_approval_posted_with_another_pages_token_decides_nothing(
    client: TestClient, org: Org, session: Session
) -> None:
    claim = add_claim(session, org.alan, "42.50")
    session.commit()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    token = approval_token(ApprovalLink(claim.id, org.margaret.id, 1, "a" * 32, expires))
    _, other = form_token(client.get("/auth/login").text)  # a real token and cookie, for another page
    refused = client.post(f"/approve/{token}", data={"csrf": other, "decision": "approve"})
    assert refused.status_code == 403 and "reload" in refused.text.lower()
    client.cookies.delete(FORM_COOKIE)
    assert client.post(f"/approve/{token}", data={"csrf": other, "decision": "approve"}).status_code == 403
    assert session.scalar(select(func.count()).select_from(ClaimDecision)) == 0
    assert session.get(UsedToken, "a" * 32) is None


def test_two_open_tabs_keep_working_because_the_cookie_is_kept(
    client: TestClient, org: Org, session: Session, gateway: FakeGateway
) -> None:
    add_day(session, org.alan, THURSDAY, state=DayState.planning)
    session.commit()
    sign_in(client, org.alan)
    _, first_tab = form_token(client.get("/me").text)
    _, second_tab = form_token(client.get("/me").text)
    form = {"text": "SAT solvers", "category": "fundamentals", "date": THURSDAY.isoformat()}
    assert client.post("/me/checkin/plan", data={**form, "csrf_token": first_tab}).status_code == 200
    assert client.post("/me/checkin/plan", data={**form, "csrf_token": second_tab}).status_code == 200


def test_behind_https_the_cookie_is_secure_and_host_only(
    app, org: Org, session: Session, gateway: FakeGateway, auth_mode
) -> None:  # type: ignore[no-untyped-def]
    auth_mode(public_base_url="https://learning.example.com")
    add_day(session, org.alan, THURSDAY, state=DayState.planning)
    session.commit()
    page = f"/checkin/{checkin_token(org.alan.id, THURSDAY)}"
    with TestClient(app, base_url="https://127.0.0.1:8000", follow_redirects=False) as browser:
        shown = browser.get(page)
        cookie = next(c for c in shown.headers.get_list("set-cookie") if "learningday_form" in c)
        assert cookie.startswith(f"__Host-{FORM_COOKIE}=") and "Secure" in cookie and "Domain" not in cookie
        _, token = form_token(shown.text)
        saved = browser.post(f"{page}/plan", data={"text": "x", "category": "papers", "csrf_token": token})
        assert saved.status_code == 200 and gateway.submissions
