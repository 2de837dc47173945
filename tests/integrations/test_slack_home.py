"""The Slack Home tab: a signed `app_home_opened` event reaches the app (Bolt inside the FastAPI
router), the view is read from the database and published with the real AsyncWebClient to the
Slack peer, which checks it as Slack would (type, block count, section sizes) and keeps it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from learningday.checkins import CheckInResult, CheckInSubmission, DayStatus
from learningday.db.models import (
    CheckIn,
    CheckInKind,
    ClaimState,
    DayState,
    ExpenseClaim,
    Flag,
    FlagKind,
    LearningDay,
    Person,
)
from learningday.settings import Settings
from learningday.web.my_day import MyDay, ReportDay, local_today
from learningday.web.reports import Budget, DayRow
from learningday.web.slack import SlackFrontDoor, build_slack_router
from learningday.web.slack.home import UNKNOWN_PERSON, Home, home_view
from policies.policy import SEED_CATEGORIES, Policy
from policies.schedule import next_learning_day
from tests.peers.slack import BOT_TOKEN, SlackPeer, slack_peer  # noqa: F401
from tests.peers.slack_requests import SECRET, interact, send_event

ADA, GRACE, ZED = "UADA00001", "UGRACE001", "UZED00009"  # Zed has a Slack account but is not in our people table
TYPED = "<!channel> <@U123> *bold* &<>"  # what a person might type, mentions and all
NOW = dt.datetime.now(dt.UTC)


class NoCheckIns:
    """The gateway: opening the Home tab or its button never checks anyone in."""

    async def submit(self, submission: CheckInSubmission) -> CheckInResult:
        raise AssertionError("the Home tab submitted a check-in")

    async def status(self, person_email: str) -> DayStatus:
        raise AssertionError("the Home tab asked the workflow for a status")

    async def skip(self, person_email: str, reason: str, key: str | None = None) -> CheckInResult:
        raise AssertionError("the Home tab skipped a day")


def add_person(
    session: Session, name: str, slack_id: str | None = None, manager: Person | None = None, active: bool = True
) -> Person:
    person = Person(
        email=f"{uuid.uuid4().hex[:12]}@example.com",
        name=name,
        timezone="Europe/London",
        slack_user_id=slack_id,
        manager_id=manager.id if manager else None,
        active=active,
    )
    session.add(person)
    session.flush()
    return person


def add_day(
    session: Session,
    person: Person,
    date: dt.date,
    state: DayState,
    plan: str | None = None,
    summary: str | None = None,
) -> LearningDay:
    day = LearningDay(person_id=person.id, date=date, state=state, workflow_id=f"learning-day-{person.id}-{date}")
    session.add(day)
    session.flush()
    for kind, text in ((CheckInKind.plan, plan), (CheckInKind.summary, summary)):
        if text is not None:
            session.add(
                CheckIn(
                    learning_day_id=day.id,
                    kind=kind,
                    text=text,
                    submitted_at=NOW,
                    category="papers" if kind == CheckInKind.plan else None,
                )
            )
    session.flush()
    return day


def add_claim(
    session: Session,
    person: Person,
    amount: str,
    category: str,
    description: str,
    state: ClaimState = ClaimState.pending,
) -> None:
    session.add(
        ExpenseClaim(
            person_id=person.id,
            amount=Decimal(amount),
            currency="USD",
            category=category,
            description=description,
            state=state,
            submitted_at=NOW,
        )
    )
    session.flush()


@pytest.fixture
async def slack(slack_peer: SlackPeer, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    for email, user in (("ada@example.com", ADA), ("grace@example.com", GRACE), ("zed@example.com", ZED)):
        slack_peer.add_user(email, user)
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_base_url=slack_peer.base_url,
    )
    app = FastAPI()
    app.include_router(build_slack_router(NoCheckIns, settings, front_door=SlackFrontDoor(NoCheckIns)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def home_opened(user: str, tab: str = "home") -> dict[str, Any]:
    """The event as Slack sends it (the view is there once a Home tab was published before)."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


async def open_home(slack: httpx.AsyncClient, peer: SlackPeer, user: str, event_id: str = "EvHome1") -> dict[str, Any]:
    """Open the Home tab as `user`; the view the peer then holds for them."""
    published = len(peer.calls_to("views.publish"))
    response = await send_event(slack, home_opened(user), event_id)
    assert response.status_code == 200
    done = await asyncio.to_thread(peer.wait_for, lambda: len(peer.calls_to("views.publish")) > published, 5.0)
    assert done, "the Home tab was never published"
    call = peer.calls_to("views.publish")[-1]
    assert (call.status, call.error, call.args["user_id"]) == (200, None, user)
    return peer.home_tabs[user]


def texts(view: dict[str, Any]) -> list[str]:
    """Every text of the view, in order (sections, context elements, button labels)."""
    found = []
    for block in view["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            found.append(element["text"]["text"] if element.get("type") == "button" else element["text"])
    return found


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_a_learner_on_their_day_sees_its_state_the_plan_button_their_streak_and_claims(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    ada = add_person(session, "Ada Lovelace", ADA)
    today = local_today(ada)
    add_day(session, ada, today, DayState.planning)
    add_day(session, ada, today - dt.timedelta(weeks=1), DayState.completed, plan="Attention", summary="Done")
    add_day(session, ada, today - dt.timedelta(weeks=2), DayState.completed, plan="Kernels", summary="Done")
    missed = add_day(session, ada, today - dt.timedelta(weeks=3), DayState.completed, plan="No summary that week")
    session.add(  # as the day's workflow records it: the miss is the flag, not the missing row
        Flag(
            person_id=ada.id,
            learning_day_id=missed.id,
            kind=FlagKind.missed_summary,
            date=missed.date,
            reason="No summary by the deadline",
            raised_at=NOW,
        )
    )
    add_claim(session, ada, "39.90", "books", "Deep Learning, Goodfellow et al.")
    add_claim(session, ada, "420", "conference_travel", "Train to NeurIPS", ClaimState.approved)
    session.commit()

    view = await open_home(slack, slack_peer, ADA)

    shown = "\n".join(texts(view))
    assert view["type"] == "home"
    assert f"*My day: {today:%A %-d %B}* · planning" in shown and "*Plan*: not written yet." in shown
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons(view)] == [
        ("open_checkin", "plan", "Write my plan")
    ]
    assert "*Streak*: 2 Learning Days kept in a row" in shown  # the missed week ends it
    assert "Books · USD 39.90 · pending" in shown and "Conference travel · USD 420.00 · approved" in shown
    assert "conference_travel" not in shown
    assert "My team today" not in shown  # nobody reports to Ada


async def test_once_the_plan_is_written_the_button_writes_the_summary(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    ada = add_person(session, "Ada Lovelace", ADA)
    add_day(session, ada, local_today(ada), DayState.learning, plan="Reimplement attention in numpy")
    session.commit()

    view = await open_home(slack, slack_peer, ADA)

    shown = "\n".join(texts(view))
    assert f"*Plan* ({SEED_CATEGORIES['papers']}): Reimplement attention in numpy" in shown
    assert "*Summary*: not written yet." in shown
    assert [(b["value"], b["text"]["text"]) for b in buttons(view)] == [("summary", "Write my summary")]


async def test_a_day_with_both_check_ins_offers_no_button(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    ada = add_person(session, "Ada Lovelace", ADA)
    add_day(session, ada, local_today(ada), DayState.summarising, plan="Attention", summary="Wrote it up")
    session.commit()

    view = await open_home(slack, slack_peer, ADA)

    assert buttons(view) == [] and "*Summary*: Wrote it up" in "\n".join(texts(view))


async def test_without_an_open_day_the_home_tab_names_the_next_learning_day(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    ada = add_person(session, "Ada Lovelace", ADA)
    session.commit()
    upcoming = next_learning_day(Policy(), local_today(ada))

    view = await open_home(slack, slack_peer, ADA)

    shown = "\n".join(texts(view))
    assert "No Learning Day is running for you right now" in shown and f"*{upcoming:%A %-d %B}*" in shown
    assert buttons(view) == [] and "*Streak*: 0 Learning Days kept in a row" in shown
    assert "No expense claims yet" in shown


async def test_a_manager_also_sees_each_direct_reports_day(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    grace = add_person(session, "Grace Hopper", GRACE)
    ada = add_person(session, "Ada Lovelace", ADA, manager=grace)
    alan = add_person(session, "Alan Turing", manager=grace)  # not on Slack: still on the team
    add_person(session, "Former Colleague", manager=grace, active=False)
    add_day(session, ada, local_today(ada), DayState.learning, plan="Attention")
    session.commit()

    view = await open_home(slack, slack_peer, GRACE)

    shown = "\n".join(texts(view))
    assert "*My team today*" in shown
    assert f"• Ada Lovelace: {local_today(ada):%a %-d %b} · learning · plan ✓ · summary –" in shown
    assert f"• {alan.name}: no Learning Day running" in shown
    assert "Former Colleague" not in shown


async def test_an_unknown_slack_user_gets_a_friendly_view_not_an_error(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    add_person(session, "Ada Lovelace", ADA, active=False)  # deactivated: unknown too
    session.commit()

    for user in (ZED, ADA):
        view = await open_home(slack, slack_peer, user, event_id=f"Ev{user}")
        assert texts(view) == ["Your Learning Day", UNKNOWN_PERSON] and buttons(view) == []


async def test_what_people_typed_is_shown_literally_never_as_a_mention_or_link(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    grace = add_person(session, f"Grace {TYPED}", GRACE)
    ada = add_person(session, f"Ada {TYPED}", ADA, manager=grace)
    add_day(
        session,
        ada,
        local_today(ada),
        DayState.summarising,
        plan=f"Plan {TYPED} https://evil.example #general",
        summary=f"Summary {TYPED}",
    )
    add_claim(session, ada, "10", "books", f"Book {TYPED}")
    session.commit()

    escaped = "&lt;!channel&gt; &lt;@U123&gt; *bold* &amp;&lt;&gt;"
    for user, expected in ((ADA, ["Plan", "Summary", "Book"]), (GRACE, ["Ada"])):
        view = await open_home(slack, slack_peer, user, event_id=f"Ev{user}")
        shown = "\n".join(texts(view))
        for what in expected:
            assert f"{what} {escaped}" in shown
        assert "<" not in shown and ">" not in shown  # no mention, no link, nothing for Slack to parse
        mrkdwn = [
            t
            for b in view["blocks"]
            for t in [b.get("text"), *b.get("elements", [])]
            if t and t.get("type") == "mrkdwn"
        ]
        assert mrkdwn and all(t["verbatim"] is True for t in mrkdwn)  # no bare address or #channel linked


async def test_the_home_tab_keeps_within_slacks_limits_for_a_large_team_and_long_texts(slack_peer: SlackPeer) -> None:
    """Built in memory (thousands of reports would be slow to store) and published with the real
    client to the peer, which refuses what Slack would: over 100 blocks, a section over 3,000."""
    grace = Person(id=1, name="Grace " + "<" * 194, email="grace@example.com", timezone="Europe/London")
    today = local_today(grace)
    day = LearningDay(id=1, person_id=1, date=today, state=DayState.summarising)
    plan = CheckIn(kind=CheckInKind.plan, text="<" * 3000, category="papers")
    summary = CheckIn(kind=CheckInKind.summary, text="&" * 3000)
    claims = [
        ExpenseClaim(
            amount=Decimal(1),
            currency="USD",
            category="books",
            description=">" * 3000,
            state=ClaimState.pending,
            submitted_at=NOW,
        )
        for _ in range(8)
    ]
    reports = [
        ReportDay(Person(id=n, name=f"Report {n} " + "<" * 190, timezone="Europe/London"), None, False, False)
        for n in range(2, 3002)
    ]
    mine = MyDay(
        grace,
        today,
        today,
        day,
        day,
        DayRow(day, plan, summary),
        [DayRow(day, plan, summary)],
        claims,
        Budget(today.year, "USD", Decimal(1500), Decimal(0), Decimal(8)),
    )
    slack_peer.add_user("grace@example.com", GRACE)

    view = home_view(Home(mine, reports, dict(SEED_CATEGORIES), {"books": "Books"}))
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    answer = await client.views_publish(user_id=GRACE, view=view)

    assert answer["ok"] and len(view["blocks"]) == 100
    shown = "\n".join(texts(view))
    assert "more people on the Team page." in shown and "3 earlier claims on your Me page." in shown
    assert all(len(text) <= 3000 for text in texts(view))


async def test_the_home_tabs_button_opens_the_check_in_modal(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    ada = add_person(session, "Ada Lovelace", ADA)
    add_day(session, ada, local_today(ada), DayState.planning)
    session.commit()
    view = await open_home(slack, slack_peer, ADA)
    [button] = buttons(view)
    [actions] = [b for b in view["blocks"] if b["type"] == "actions"]

    click = {
        "type": "block_actions",
        "user": {"id": ADA},
        "trigger_id": slack_peer.new_trigger_id(),
        "team": {"id": "TTEAM0001"},
        "container": {"type": "view", "view_id": view["id"]},
        "view": {"id": view["id"], "type": "home", "callback_id": "", "state": {"values": {}}},
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "value": button["value"],
                "block_id": actions["block_id"],
            }
        ],
    }
    response = await interact(slack, click)

    assert response.status_code == 200
    assert await asyncio.to_thread(slack_peer.wait_for, lambda: bool(slack_peer.views), 5.0)
    [opened] = slack_peer.calls_to("views.open")
    assert (opened.status, opened.error, opened.args["trigger_id"]) == (200, None, click["trigger_id"])
    [modal] = slack_peer.views.values()
    assert modal["callback_id"] == "checkin_plan"  # the form `/learning plan` opens


async def test_a_redelivered_event_publishes_the_same_view_again_without_error(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    add_person(session, "Ada Lovelace", ADA)
    session.commit()

    first = json.dumps((await open_home(slack, slack_peer, ADA, event_id="EvSame"))["blocks"])
    second = json.dumps((await open_home(slack, slack_peer, ADA, event_id="EvSame"))["blocks"])

    assert first == second
    assert [c.status for c in slack_peer.calls_to("views.publish")] == [200, 200]


async def test_opening_the_messages_tab_publishes_nothing(
    slack: httpx.AsyncClient, slack_peer: SlackPeer, session: Session
) -> None:
    add_person(session, "Ada Lovelace", ADA)
    session.commit()

    response = await send_event(slack, home_opened(ADA, tab="messages"), "EvMessages")
    await open_home(slack, slack_peer, ADA)  # handled after the messages tab's event

    assert response.status_code == 200
    assert len(slack_peer.calls_to("views.publish")) == 1
