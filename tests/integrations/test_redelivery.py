"""A request delivered again, on the same web replica or another, is answered like the first and
saves nothing new: a Slack event retried (its `event_id`), a modal submitted again (its
`view.id`), a web form posted twice (its nonce). The real dev server and workflow, two web apps
sharing it (two replicas, no memory in common), signed Slack requests and the Slack peer.
"""

from __future__ import annotations

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
    THURSDAY,
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
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow

SCALE = 60.0  # the plan's cutoff 25 s after the start: time to deliver everything twice


@pytest.fixture
async def stack(
    temporal_env: WorkflowEnvironment, settings: Settings, google_peer: GooglePeer, slack_peer: SlackPeer
) -> AsyncIterator[Stack]:
    async with run_stack(temporal_env, settings, google_peer, slack_peer, compact_policy(), []) as running:
        yield running


def replica(stack: Stack) -> httpx.AsyncClient:
    """Another web app on the same Temporal and database: it shares nothing in memory."""
    app = create_app(stack.settings, TemporalCheckInGateway(stack.client), mailer_from_settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def prompted_day(stack: Stack, person: Person) -> WorkflowHandle:
    handle = await stack.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=THURSDAY, time_scale=SCALE),
        id=workflow_id_for(person.id, THURSDAY),
        task_queue=stack.settings.temporal_task_queue,
    )

    async def prompted() -> bool:
        return f"prompt:{handle.id}:plan:0" in keyed(stack.slack.channel_messages(ADA_SLACK))

    await eventually(prompted, timeout=60, what="the plan prompt")
    return handle


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
    stack: Stack, ada: Person, session: Session
) -> None:
    handle = await prompted_day(stack, ada)
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
    stack: Stack, ada: Person, session: Session
) -> None:
    handle = await prompted_day(stack, ada)
    async with replica(stack) as other:
        answers = [await interact(web, plan_submission(ADA_SLACK)) for web in (stack.web, stack.web, other)]
    assert [a.status_code for a in answers] == [200, 200, 200]

    await eventually(lambda: _view_has_plan(handle), what="the plan")
    assert saved(session) == [("plan", "Reimplement the Attention paper", False)]
    assert (audited(session, "plan_submitted"), audited(session, "plan_edited")) == (1, 0)
    await close(handle)


NONCE = re.compile(r'name="submission" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_a_web_check_in_form_posted_twice_saves_one_plan(stack: Stack, ada: Person, session: Session) -> None:
    handle = await prompted_day(stack, ada)
    path = f"/checkin/{checkin_token(ada.id, THURSDAY)}"
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
