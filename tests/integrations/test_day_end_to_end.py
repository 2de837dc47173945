"""One person's Learning Day end to end: the real googleapiclient and slack_sdk clients against
the Google and Slack peers, and answers arriving as signed Slack requests through the web app.

A day somebody answers runs at the compact policy's real times on the time-skipping test server
(tests/workflows/clock.py): the plan goes in at 09:01 Berlin and the summary at 09:31, however
slow the machine, and awaiting the result skips the rest. A day nobody answers runs compressed
on the real dev server, which has nothing to race.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from activities.mail.factory import mailer_from_settings
from learningday.contracts.calendar import hold_event_id
from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db.models import CheckIn, DayState, LearningDay, OutboxMessage, Person
from learningday.settings import Settings
from learningday.temporal.gateway import TemporalCheckInGateway
from learningday.temporal.worker import build_workers
from learningday.web.app import create_app
from policies.policy import Policy
from tests.peers.google import GooglePeer
from tests.peers.slack import BOT_TOKEN, SlackPeer, running_slack_peer
from tests.peers.slack_requests import SECRET, dm, send_event
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin, thursday_ahead
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow

THURSDAY = dt.date(2026, 12, 3)
ADA_SLACK = "UADA00001"


class FailEachActivityOnceAfterItsSideEffect(Interceptor):
    """Every activity's first attempt does its work, then reports failure, as if the worker
    had crashed before telling Temporal: Temporal retries it, and the retry must not repeat
    the side effect."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        outer = self

        class Inbound(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> Any:
                result = await super().execute_activity(input)
                info = activity.info()
                if info.attempt == 1:
                    outer.failed.append(info.activity_type)
                    raise RuntimeError("injected: the result was lost after the side effect")
                return result

        return Inbound(next)


@dataclass
class Stack:
    client: Client
    settings: Settings
    google: GooglePeer
    slack: SlackPeer
    web: httpx.AsyncClient


@pytest.fixture
def google_peer() -> Iterator[GooglePeer]:
    with GooglePeer() as peer:
        yield peer
        assert peer.schema_errors == [], "a request did not match the Calendar v3 discovery schema"


@pytest.fixture
def slack_peer() -> Iterator[SlackPeer]:
    with running_slack_peer() as peer:
        peer.add_user("ada@example.com", ADA_SLACK)
        peer.add_channel("#learning-day")
        yield peer


@pytest.fixture
def settings(tmp_path: Path, google_peer: GooglePeer, slack_peer: SlackPeer) -> Settings:
    key_file = tmp_path / "service-account.json"
    google_peer.write_key_file(key_file)
    queue = f"e2e-{uuid.uuid4().hex[:8]}"
    return Settings(
        temporal_task_queue=queue,
        temporal_channel_task_queue=f"{queue}-channel",
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_base_url=slack_peer.base_url,
        google_service_account_file=key_file,
        google_api_endpoint=google_peer.url,
    )


@contextlib.asynccontextmanager
async def run_stack(
    env: WorkflowEnvironment,
    settings: Settings,
    google: GooglePeer,
    slack: SlackPeer,
    policy: Policy,
    interceptors: list[Interceptor],
) -> AsyncIterator[Stack]:
    """Workers with the vendor adapters chosen from settings, and the web app in front."""
    workers = build_workers(env.client, settings, policy_loader=lambda: policy, interceptors=interceptors)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    app = create_app(settings, TemporalCheckInGateway(env.client), mailer_from_settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
            yield Stack(env.client, settings, google, slack, web)
    finally:
        for worker in workers:
            await worker.shutdown()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def ada(session: Session) -> Person:
    person = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/Berlin", slack_user_id=ADA_SLACK)
    session.add(person)
    session.commit()
    return person


def keyed(messages: list[Any]) -> dict[str, Any]:
    """Our messages by the idempotency key their metadata carries (Slack's own replies have none)."""
    found: dict[str, Any] = {}
    for message in messages:
        key = ((message.metadata or {}).get("event_payload") or {}).get("key")
        if key:
            assert key not in found, f"{key} was posted twice"
            found[key] = message
    return found


async def answer_by_dm(stack: Stack, person: Person, text: str, after_key: str) -> None:
    """Wait for our prompt `after_key` in the person's DM, then reply there in plain text."""

    async def prompted() -> bool:
        return after_key in keyed(stack.slack.channel_messages(ADA_SLACK))

    await eventually(prompted, timeout=60, what=f"the Slack DM {after_key}")
    response = await send_event(stack.web, dm(ADA_SLACK, text), event_id=f"Ev{uuid.uuid4().hex[:10]}")
    assert response.status_code == 200


async def play_a_day(stack: Stack, env: WorkflowEnvironment, person: Person) -> tuple[DayView, dt.date]:
    """The next working Thursday at the compact policy's times, started ahead as the kickoff does:
    the plan answered by DM at 09:01 Berlin, the summary at 09:31; the day and its date."""
    date = thursday_ahead(await env.get_current_time(), compact_policy())
    handle = await stack.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date),
        id=workflow_id_for(person.id, date),
        task_queue=stack.settings.temporal_task_queue,
    )
    wf = handle.id

    async def recorded(kind: str) -> None:  # Slack's event is acked first, handled after
        async def seen() -> bool:
            return getattr(await handle.query(LearningDayWorkflow.status), kind) is not None

        await eventually(seen, what=f"the {kind} in the day")

    await advance_to(env, berlin(date, 9, 1))
    await answer_by_dm(stack, person, "Reimplement Reptile in JAX", after_key=f"prompt:{wf}:plan:0")
    await recorded("plan")
    await advance_to(env, berlin(date, 9, 31))
    await answer_by_dm(
        stack, person, "Reptile trains on Omniglot; notes in the wiki", after_key=f"prompt:{wf}:summary:0"
    )
    await recorded("summary")
    return await handle.result(), date


def assert_exactly_one_of_everything(
    stack: Stack, person: Person, session: Session, view: DayView, date: dt.date
) -> None:
    wf = workflow_id_for(person.id, date)
    assert view.state == "completed" and view.flags == []
    assert view.plan == "Reimplement Reptile in JAX"

    events = stack.google.events(person.email)
    assert [(e["id"], e["eventType"], e["status"]) for e in events] == [
        (hold_event_id(person.email, date), "focusTime", "confirmed")
    ]
    assert events[0]["focusTimeProperties"]["autoDeclineMode"] == "declineOnlyNewConflictingInvitations"

    dms = keyed(stack.slack.channel_messages(ADA_SLACK))
    assert set(dms) == {f"prompt:{wf}:plan:0", f"prompt:{wf}:summary:0"}
    posts = keyed(stack.slack.channel_messages("#learning-day"))
    assert set(posts) == {f"channel:{wf}:plan", f"channel:{wf}:summary"}
    plan_post, summary_post = posts[f"channel:{wf}:plan"], posts[f"channel:{wf}:summary"]
    assert summary_post.thread_ts == plan_post.ts
    assert "Reimplement Reptile in JAX" in (plan_post.text or "")

    session.expire_all()
    day = session.scalars(select(LearningDay).where(LearningDay.person_id == person.id)).one()
    assert day.state == DayState.completed and day.channel_thread_ts == plan_post.ts
    check_ins = session.scalars(select(CheckIn).where(CheckIn.learning_day_id == day.id)).all()
    assert sorted((c.kind.value, c.source, c.edited_at) for c in check_ins) == [
        ("plan", "slack_dm", None),
        ("summary", "slack_dm", None),
    ]
    sent = session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(sent) == len(set(sent))


async def test_a_day_over_slack_and_google_calendar(
    skipping_env: WorkflowEnvironment,
    settings: Settings,
    google_peer: GooglePeer,
    slack_peer: SlackPeer,
    ada: Person,
    session: Session,
) -> None:
    async with run_stack(skipping_env, settings, google_peer, slack_peer, compact_policy(), []) as stack:
        view, date = await play_a_day(stack, skipping_env, ada)
    assert_exactly_one_of_everything(stack, ada, session, view, date)


async def test_every_activity_retried_after_its_side_effect_duplicates_nothing(
    skipping_env: WorkflowEnvironment,
    settings: Settings,
    google_peer: GooglePeer,
    slack_peer: SlackPeer,
    ada: Person,
    session: Session,
) -> None:
    faults = FailEachActivityOnceAfterItsSideEffect()
    retried_holds_before = retries_counted("place_hold")
    async with run_stack(skipping_env, settings, google_peer, slack_peer, compact_policy(), [faults]) as stack:
        view, date = await play_a_day(stack, skipping_env, ada)

    assert_exactly_one_of_everything(stack, ada, session, view, date)
    assert {
        "load_day_context",
        "place_hold",
        "record_day_state",
        "send_prompt",
        "record_check_in",
        "post_to_channel_in_turn",
    } <= set(faults.failed)
    assert retries_counted("place_hold") == retried_holds_before + 1  # on the operator's dashboard


def retries_counted(activity_type: str) -> float:
    return REGISTRY.get_sample_value("learningday_activity_retries_total", {"activity": activity_type}) or 0.0


async def test_an_out_of_office_event_on_google_calendar_skips_the_day_without_a_hold_or_prompt(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    google_peer: GooglePeer,
    slack_peer: SlackPeer,
    ada: Person,
    session: Session,
) -> None:
    # Berlin in December is UTC+1: the whole Thursday, local time.
    google_peer.seed_event(
        ada.email,
        {
            "id": "ooo20261203",
            "summary": "Parental leave",
            "eventType": "outOfOffice",
            "transparency": "opaque",
            "start": {"dateTime": "2026-12-03T00:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-12-04T00:00:00+01:00", "timeZone": "Europe/Berlin"},
            "outOfOfficeProperties": {"autoDeclineMode": "declineNone"},
        },
    )
    async with run_stack(temporal_env, settings, google_peer, slack_peer, compact_policy(), []) as stack:
        view = await stack.client.execute_workflow(
            LearningDayWorkflow.run,
            LearningDayInput(person_id=ada.id, date=THURSDAY, time_scale=300),
            id=workflow_id_for(ada.id, THURSDAY),
            task_queue=settings.temporal_task_queue,
        )

    assert view.state == "skipped" and "Parental leave" in (view.skip_reason or "")
    assert [e["id"] for e in google_peer.events(ada.email)] == ["ooo20261203"]  # no hold added
    assert keyed(slack_peer.channel_messages(ADA_SLACK)) == {}
    assert view.flags == []
