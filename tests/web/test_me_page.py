"""The Me page gives a learner their open day's check-in (and its link) whatever the day's date
or whether Slack reaches them, and a way to file a claim without asking anyone for a link."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.models import DayState
from learningday.links.checkin import read_checkin_token
from tests.web.conftest import TODAY, Org, add_day, form_token, sign_in


def test_a_day_in_planning_shows_its_check_in_even_when_dated_ahead(
    client: TestClient, session: Session, org: Org
) -> None:
    ahead = TODAY + dt.timedelta(days=4)  # a day started early, as the demo's compressed day is
    add_day(session, org.alan, ahead, state=DayState.planning)
    session.commit()
    page = sign_in(client, org.alan).get("/me").text
    assert "No Learning Day is running" not in page
    assert 'id="checkin"' in page and 'action="/me/checkin/plan"' in page
    assert f'value="{ahead.isoformat()}"' in page
    link = re.search(r'id="checkin-link" href="/checkin/([^"]+)"', page)
    assert link and read_checkin_token(link.group(1)) == (org.alan.id, ahead)  # the prompt's link, here too


def test_a_scheduled_day_next_week_does_not_open_the_check_in(client: TestClient, session: Session, org: Org) -> None:
    add_day(session, org.alan, TODAY + dt.timedelta(days=7), state=DayState.scheduled)
    session.commit()
    assert "No Learning Day is running" in sign_in(client, org.alan).get("/me").text


def test_file_a_claim_from_the_me_page_leads_to_the_persons_own_claim_form(client: TestClient, org: Org) -> None:
    me = sign_in(client, org.alan).get("/me").text
    assert 'id="file-claim" href="/me/claim"' in me
    answer = client.get("/me/claim")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/claims/new/")
    form = client.get(answer.headers["location"])
    assert form.status_code == 200 and "Alan Learner" in form.text
    form_token(form.text)  # a form ready to post


def test_file_a_claim_needs_a_sign_in(client: TestClient) -> None:
    answer = client.get("/me/claim")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/auth/login")
