"""The excuse link in a flag email: GET shows and changes nothing, POST (with the page's CSRF
cookie and token) excuses once; replayed, tampered, expired or foreign links change nothing."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.db.models import AuditEntry, Flag, FlagKind
from learningday.links.excuse import excuse_token
from learningday.web import excuse
from tests.enforcement.conftest import THURSDAY, Org


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(excuse.router)
    return TestClient(app)


@pytest.fixture
def flag(session: Session, org: Org) -> Flag:
    flag = Flag(
        person_id=org.ada.id,
        kind=FlagKind.missed_plan,
        date=THURSDAY,
        reason="No plan by the deadline plus grace.",
        evidence={},
        raised_at=dt.datetime.now(dt.UTC),
    )
    session.add(flag)
    session.commit()
    return flag


def path(flag_id: int, manager_id: int) -> str:
    return f"/excuse/{excuse_token(flag_id, manager_id)}"


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the page has no CSRF field"
    return match.group(1)


def opened(client: TestClient, link: str) -> str:
    """Open the link as the manager's browser does: the CSRF token of its form (and its cookie)."""
    return csrf_from(client.get(link).text)


def reload(session: Session, flag: Flag) -> Flag:
    session.expire_all()
    return session.get(Flag, flag.id)  # type: ignore[return-value]


def test_opening_the_link_shows_the_flag_and_changes_nothing(
    client: TestClient, flag: Flag, org: Org, session: Session
) -> None:
    page = client.get(path(flag.id, org.maria.id))
    assert page.status_code == 200
    assert "Ada Lovelace: No plan posted" in page.text and "No plan by the deadline plus grace." in page.text
    assert reload(session, flag).excused_at is None
    assert session.scalars(select(AuditEntry)).all() == []


def test_the_manager_excuses_once_and_it_is_audited(client: TestClient, flag: Flag, org: Org, session: Session) -> None:
    link = path(flag.id, org.maria.id)
    csrf = csrf_from(client.get(link).text)
    done = client.post(link, data={"csrf": csrf, "reason": "Agreed: conference talk prep"})
    assert done.status_code == 200 and "is excused" in done.text
    excused = reload(session, flag)
    assert excused.excused_by_id == org.maria.id and excused.excuse_reason == "Agreed: conference talk prep"
    assert excused.excused_at is not None
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "flag_excused")).all()
    assert (entry.actor, entry.subject_id) == ("maria@example.com", str(flag.id))

    replay = client.post(link, data={"csrf": csrf, "reason": "again"})
    assert replay.status_code == 409 and "already excused" in replay.text
    assert reload(session, flag).excuse_reason == "Agreed: conference talk prep"


def test_the_skip_level_manager_may_excuse_too(client: TestClient, flag: Flag, org: Org, session: Session) -> None:
    link = path(flag.id, org.grace.id)
    response = client.post(link, data={"csrf": opened(client, link), "reason": "Escalation handled"})
    assert response.status_code == 200
    assert reload(session, flag).excused_by_id == org.grace.id


def test_a_post_without_the_pages_csrf_token_is_refused(
    client: TestClient, flag: Flag, org: Org, session: Session
) -> None:
    link = path(flag.id, org.maria.id)
    other = opened(client, path(flag.id, org.grace.id))  # a real token, for another link
    own = opened(client, link)
    for csrf in ("", other, "forged"):
        response = client.post(link, data={"csrf": csrf, "reason": "forged"})
        assert response.status_code == 403 and "Nothing was changed" in response.text
    client.cookies.clear()  # a form posted from another site: the SameSite=Strict cookie stays behind
    response = client.post(link, data={"csrf": own, "reason": "forged"})
    assert response.status_code == 403 and "Reload the page" in response.text
    assert reload(session, flag).excused_at is None


def test_tampered_expired_and_foreign_links_change_nothing(
    client: TestClient, flag: Flag, org: Org, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = path(flag.id, org.maria.id)
    csrf = opened(client, link)
    tampered = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    assert client.get(tampered).status_code == 400
    assert "not valid" in client.post(tampered, data={"csrf": csrf, "reason": "x"}).text

    bob_is_not_adas_manager = path(flag.id, org.bob.id)
    shown = client.get(bob_is_not_adas_manager)
    assert shown.status_code == 404 and "no longer manages" in shown.text and 'name="csrf"' not in shown.text
    assert client.post(bob_is_not_adas_manager, data={"csrf": csrf, "reason": "x"}).status_code == 403

    now = time.time()
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: now - 31 * 24 * 3600)  # sent 31 days ago; links last 30
        old = path(flag.id, org.maria.id)
    assert client.get(old).status_code == 400
    expired = client.post(old, data={"csrf": csrf, "reason": "late"})
    assert expired.status_code == 400 and "expired" in expired.text
    assert reload(session, flag).excused_at is None


def test_an_excuse_needs_a_reason(client: TestClient, flag: Flag, org: Org, session: Session) -> None:
    link = path(flag.id, org.maria.id)
    response = client.post(link, data={"csrf": opened(client, link), "reason": "  "})
    assert response.status_code == 422 and "Say in a few words" in response.text
    assert reload(session, flag).excused_at is None
