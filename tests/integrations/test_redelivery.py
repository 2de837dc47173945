"""A request delivered again, on the same web replica or another, is answered like the first and
saves nothing new: a Slack event retried (its `event_id`), a modal submitted again (its
`view.id`), a web form posted twice (its nonce). The real workflow on the time-skipping test
server, two web apps sharing it (two replicas, no memory in common), signed Slack requests and
the Slack peer. The day runs at the compact policy's real times and the clock stands at 09:01
Berlin while a test delivers its requests: it has the plan window's 24 minutes, not the 25
seconds of a compressed day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.mail.factory import mailer_from_settings
from learningday.contracts.day import DayView, LearningDayInput, SkipRequest, workflow_id_for
from learningday.db.models import AuditEntry, CheckIn, Person
from learningday.links.checkin import checkin_token
from learningday.settings import Settings
from learningday.temporal.gateway import TemporalCheckInGateway
from learningday.web.app import create_app
from tests.integrations.test_day_end_to_end import (  # noqa: F401 - fixtures
    ADA_SLACK,
    Stack,
    ada,
    google_peer,
    keyed,
    run_stack,
    settings,
    slack_peer,
)
from tests.peers.google import GooglePeer
from tests.peers.slack import SlackPeer
from tests.peers.slack_requests import dm, interact, plan_submission, send_event
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin, thursday_ahead
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow


@pytest.fixture
async def stack(
    skipping_env: WorkflowEnvironment, settings: Settings, google_peer: GooglePeer, slack_peer: SlackPeer
) -> AsyncIterator[Stack]:
    async with run_stack(skipping_env, settings, google_peer, slack_peer, compact_policy(), []) as running:
        yield running


def replica(stack: Stack) -> httpx.AsyncClient:
    """Another web app on the same Temporal and database: it shares nothing in memory."""
    app = create_app(stack.settings, TemporalCheckInGateway(stack.client), mailer_from_settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def prompted_day(stack: Stack, env: WorkflowEnvironment, person: Person) -> tuple[WorkflowHandle, dt.date]:
    """The next working Thursday, started ahead, its clock moved to 09:01 Berlin once the plan
    prompt is out: the day and its date."""
    date = thursday_ahead(await env.get_current_time(), compact_policy())
    handle = await stack.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date),
        id=workflow_id_for(person.id, date),
        task_queue=stack.settings.temporal_task_queue,
    )
    await advance_to(env, berlin(date, 9, 1))

    async def prompted() -> bool:
        return f"prompt:{handle.id}:plan:0" in keyed(stack.slack.channel_messages(ADA_SLACK))

    await eventually(prompted, timeout=60, what="the plan prompt")
    return handle, date


def saved(session: Session) -> list[tuple[str, str, bool]]:
    """(kind, text, edited) of every check-in row."""
    session.expire_all()
    return sorted((c.kind.value, c.text, c.edited_at is not None) for c in session.scalars(select(CheckIn)))


def audited(session: Session, action: str) -> int:
    return len(session.scalars(select(AuditEntry.id).where(AuditEntry.action == action)).all())


async def close(handle: WorkflowHandle) -> DayView:
    await handle.execute_update(LearningDayWorkflow.skip, SkipRequest(reason="test over"))
    return await handle.result()


async def test_a_plan_dm_redelivered_to_another_replica_is_not_recorded_as_the_summary(
    stack: Stack, skipping_env: WorkflowEnvironment, ada: Person, session: Session
) -> None:
    handle, _ = await prompted_day(stack, skipping_env, ada)
    message = dm(ADA_SLACK, "Read the Raft paper")
    async with replica(stack) as other:
        first = await send_event(stack.web, message, event_id="EvPLAN0001")
        await eventually(lambda: _view_has_plan(handle), what="the plan")
        again = await send_event(other, message, event_id="EvPLAN0001")  # Slack retries elsewhere
    assert (first.status_code, again.status_code) == (200, 200)

    def replies() -> list[str | None]:  # our answers in the DM (prompts carry metadata, replies none)
        return [m.text for m in stack.slack.channel_messages(ADA_SLACK) if m.metadata is None]

    async def both_answered() -> bool:
        return len(replies()) == 2

    await eventually(both_answered, what="an answer from each replica")
    view = await handle.query(LearningDayWorkflow.status)
    assert (view.plan, view.summary) == ("Read the Raft paper", None)
    assert saved(session) == [("plan", "Read the Raft paper", False)]
    assert audited(session, "summary_submitted") == 0
    assert replies() == ["Plan saved.", "Plan saved."]  # the second tells the first answer
    await close(handle)


async def _view_has_plan(handle: WorkflowHandle) -> bool:
    return (await handle.query(LearningDayWorkflow.status)).plan is not None


async def test_a_modal_submitted_three_times_on_two_replicas_saves_one_plan(
    stack: Stack, skipping_env: WorkflowEnvironment, ada: Person, session: Session
) -> None:
    handle, _ = await prompted_day(stack, skipping_env, ada)
    async with replica(stack) as other:
        answers = [await interact(web, plan_submission(ADA_SLACK)) for web in (stack.web, stack.web, other)]
    assert [a.status_code for a in answers] == [200, 200, 200]

    await eventually(lambda: _view_has_plan(handle), what="the plan")
    assert saved(session) == [("plan", "Reimplement the Attention paper", False)]
    assert (audited(session, "plan_submitted"), audited(session, "plan_edited")) == (1, 0)
    await close(handle)


NONCE = re.compile(r'name="submission" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_a_web_check_in_form_posted_twice_saves_one_plan(
    stack: Stack, skipping_env: WorkflowEnvironment, ada: Person, session: Session
) -> None:
    handle, date = await prompted_day(stack, skipping_env, ada)
    path = f"/checkin/{checkin_token(ada.id, date)}"
    page = await stack.web.get(path)
    nonce, csrf = NONCE.search(page.text), CSRF.search(page.text)
    assert nonce and csrf, "the check-in form carries a nonce and a CSRF token"
    form = {
        "text": "Fundamentals: eigenvalues",
        "category": "fundamentals",
        "submission": nonce.group(1),
        "csrf_token": csrf.group(1),
    }
    async with replica(stack) as other:
        other.cookies = stack.web.cookies  # one browser, its two posts answered by two replicas
        answers = [await stack.web.post(f"{path}/plan", data=form), await other.post(f"{path}/plan", data=form)]

    assert [a.status_code for a in answers] == [200, 200]
    assert all("Plan saved." in a.text for a in answers)  # the second answers like the first
    assert saved(session) == [("plan", "Fundamentals: eigenvalues", False)]
    await close(handle)
