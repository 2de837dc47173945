"""A deactivated person's links stop working: the calendar feed and the check-in page answer 404
like links that never existed, and the claim form, approval and excuse links refuse."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learningday.db.models import ClaimDecision, DayState, Flag, Person
from learningday.links.approval import ApprovalLink, approval_token
from learningday.links.checkin import checkin_token
from learningday.links.excuse import excuse_token
from learningday.web.claims import claim_form_url
from learningday.web.ics import feed_token
from tests.web.conftest import THURSDAY, FakeGateway, Org, add_claim, add_day, add_flag, form_token


def deactivate(session: Session, person: Person) -> None:
    session.get(Person, person.id).active = False  # type: ignore[union-attr]
    session.commit()


def test_the_calendar_feed_of_a_deactivated_person_is_not_found(client: TestClient, org: Org, session: Session) -> None:
    feed = f"/ics/{feed_token(org.alan.id)}.ics"
    assert client.get(feed).status_code == 200
    deactivate(session, org.alan)
    assert client.get(feed).status_code == 404


def test_the_check_in_page_of_a_deactivated_person_is_not_found(
    client: TestClient, org: Org, session: Session, gateway: FakeGateway
) -> None:
    add_day(session, org.alan, THURSDAY, state=DayState.planning)
    session.commit()
    page = f"/checkin/{checkin_token(org.alan.id, THURSDAY)}"
    _, token = form_token(client.get(page).text)
    deactivate(session, org.alan)
    assert client.get(page).status_code == 404
    posted = client.post(f"{page}/plan", data={"text": "x", "category": "papers", "csrf_token": token})
    assert posted.status_code == 404 and gateway.submissions == []


def test_the_claim_form_of_a_deactivated_person_refuses(client: TestClient, org: Org, session: Session) -> None:
    form = "/claims/new/" + claim_form_url(org.alan.id).rsplit("/", 1)[1]
    assert client.get(form).status_code == 200
    deactivate(session, org.alan)
    assert client.get(form).status_code == 404


def test_the_approval_link_of_a_deactivated_approver_refuses(client: TestClient, org: Org, session: Session) -> None:
    claim = add_claim(session, org.alan, "42.50")
    session.commit()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    token = approval_token(ApprovalLink(claim.id, org.margaret.id, 1, "b" * 32, expires))
    deactivate(session, org.margaret)
    page = client.get(f"/approve/{token}")
    assert page.status_code == 404 and "no longer" in page.text and 'name="decision"' not in page.text
    assert session.scalar(select(func.count()).select_from(ClaimDecision)) == 0


def test_the_excuse_link_of_a_deactivated_manager_refuses(client: TestClient, org: Org, session: Session) -> None:
    flag = add_flag(session, add_day(session, org.alan, THURSDAY))
    session.commit()
    link = f"/excuse/{excuse_token(flag.id, org.margaret.id)}"
    _, token = form_token(client.get(link).text)
    deactivate(session, org.margaret)
    assert client.get(link).status_code == 404
    posted = client.post(link, data={"csrf": token, "reason": "Agreed"})
    assert posted.status_code == 404
    session.expire_all()
    assert session.get(Flag, flag.id).excused_at is None  # type: ignore[union-attr]
