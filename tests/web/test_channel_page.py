"""The channel page threads posts the way the Slack channel does: one thread per person per
Learning Day, the plan first and the summary as its reply, newest day first."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.models import OutboxMessage, Person
from tests.web.conftest import THURSDAY, WEEK, Org, add_channel_post, sign_in

THREAD = re.compile(r'<article class="thread" id="(thread-[^"]+)">(.*?)</article>', re.S)


def post(session: Session, person: Person, date: dt.date, kind: str, text: str) -> None:
    add_channel_post(session, person, date, kind, text)
    session.commit()


def threads(page: str) -> list[tuple[str, str]]:
    return THREAD.findall(page)


def test_each_persons_summary_sits_under_their_plan_newest_day_first(
    session: Session, org: Org, client: TestClient
) -> None:
    last_week = THURSDAY - WEEK
    post(session, org.alan, last_week, "plan", "Read the Raft paper")
    post(session, org.linus, THURSDAY, "plan", "Rust ownership")
    post(session, org.alan, THURSDAY, "plan", "Bayesian statistics")
    post(session, org.alan, last_week, "summary", "Raft makes sense now")
    post(session, org.alan, THURSDAY, "summary", "Priors are opinions")

    page = sign_in(client, org.ada).get("/channel").text

    found = threads(page)
    assert [name for name, _ in found] == [
        f"thread-{org.alan.id}-{THURSDAY}",
        f"thread-{org.linus.id}-{THURSDAY}",
        f"thread-{org.alan.id}-{last_week}",
    ]
    alan_today = found[0][1]
    assert "Alan Learner" in alan_today
    assert alan_today.index("Bayesian statistics") < alan_today.index("Priors are opinions")
    assert "Raft" not in alan_today  # last week's posts are last week's thread
    alan_last_week = found[2][1]
    assert alan_last_week.index("Read the Raft paper") < alan_last_week.index("Raft makes sense now")
    assert page.index(f"<h2>{THURSDAY:%A %-d %B %Y}</h2>") < page.index(f"<h2>{last_week:%A %-d %B %Y}</h2>")


def test_a_plan_without_its_summary_says_the_summary_is_not_yet_posted(
    session: Session, org: Org, client: TestClient
) -> None:
    post(session, org.linus, THURSDAY, "plan", "Rust ownership")
    post(session, org.alan, THURSDAY, "plan", "Bayesian statistics")
    post(session, org.alan, THURSDAY, "summary", "Priors are opinions")

    found = dict(threads(sign_in(client, org.ada).get("/channel").text))

    assert "summary not yet posted" in found[f"thread-{org.linus.id}-{THURSDAY}"]
    assert "summary not yet posted" not in found[f"thread-{org.alan.id}-{THURSDAY}"]


def test_a_post_the_page_cannot_place_in_a_thread_is_still_shown(
    session: Session, org: Org, client: TestClient
) -> None:
    session.add(
        OutboxMessage(
            idempotency_key="channel:imported:1",
            channel="local_channel",
            recipient="#learning-day",
            subject=None,
            body="Welcome to the Learning Day channel",
        )
    )
    session.commit()

    page = sign_in(client, org.ada).get("/channel").text

    assert "Welcome to the Learning Day channel" in page
