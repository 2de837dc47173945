"""The person page shows what the day's end judged: whether the summary followed the plan (the
comparison `used for work` is decided on), so a manager reading a flag sees the day's side too."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.conftest import THURSDAY, WEEK, Org, add_day, sign_in


def test_the_person_page_says_whether_each_summary_followed_its_plan(
    client: TestClient, org: Org, session: Session
) -> None:
    followed = add_day(session, org.alan, THURSDAY - WEEK, plan="Raft paper", summary="Read Raft, wrote notes")
    followed.followed_plan = True
    strayed = add_day(session, org.alan, THURSDAY, plan="Raft paper", summary="Fixed the billing outage")
    strayed.followed_plan = False
    add_day(session, org.alan, THURSDAY - 2 * WEEK, plan="Paxos")  # no summary: nothing to judge
    session.commit()

    page = sign_in(client, org.margaret).get(f"/people/{org.alan.id}").text

    assert page.count("The summary followed the plan.") == 1
    assert page.count("The summary did not follow the plan.") == 1
