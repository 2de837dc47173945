"""The weekly Schedule and its kickoff: every active person's day starts once, never twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from temporalio.service import RPCError

from learningday.contracts.day import workflow_id_for
from learningday.contracts.kickoff import KickoffRequest, KickoffResult
from learningday.db.models import Person
from learningday.temporal.schedule import SCHEDULE_ID, ensure_weekly_schedule, kickoff_weekday
from policies.policy import Policy
from tests.workflows.conftest import Harness
from workflows.weekly_kickoff import WeeklyKickoffWorkflow

# A week no other test plays: the dev server is shared by the whole session and the kickoff
# counts a day id it has seen before (REJECT_DUPLICATE) as already started, whoever ran it.
TUESDAY_MIDNIGHT_UTC = dt.datetime(2031, 4, 1, 0, 0, tzinfo=dt.UTC)


def people(session: Session) -> list[Person]:
    crew = [
        Person(email="kiri@example.com", name="Kiri", timezone="Pacific/Auckland"),  # UTC+13
        Person(email="lee@example.com", name="Lee", timezone="America/Los_Angeles"),  # still Monday
        Person(email="gone@example.com", name="Gone", timezone="UTC", active=False),
    ]
    session.add_all(crew)
    session.commit()
    return crew


async def kickoff(h: Harness, run: int) -> KickoffResult:
    return await h.client.execute_workflow(
        WeeklyKickoffWorkflow.run,
        KickoffRequest(reference=TUESDAY_MIDNIGHT_UTC),
        id=f"kickoff-test-{h.settings.temporal_task_queue}-{run}",
        task_queue=h.settings.temporal_task_queue,
    )


async def test_kickoff_starts_each_active_persons_next_learning_day_once(harness: Harness, session: Session) -> None:
    kiri, lee, gone = people(session)
    first = await kickoff(harness, 1)
    second = await kickoff(harness, 2)

    assert (first.started, first.already_running) == (2, 0)
    assert (second.started, second.already_running) == (0, 2)
    thursday = dt.date(2031, 4, 3)  # the same Thursday in Auckland and in Los Angeles
    for person in (kiri, lee):
        handle = harness.client.get_workflow_handle(workflow_id_for(person.id, thursday))
        description = await handle.describe()
        assert description.workflow_type == "LearningDayWorkflow"
        await handle.terminate("test over")
    with pytest.raises(RPCError, match="not found"):
        await harness.client.get_workflow_handle(workflow_id_for(gone.id, thursday)).describe()


async def test_weekly_schedule_fires_two_days_ahead_and_is_updated_not_duplicated(harness: Harness) -> None:
    policy = Policy()
    assert kickoff_weekday(policy) == 2  # Tuesday (Temporal counts Sunday = 0)
    await ensure_weekly_schedule(harness.client, policy, harness.settings.temporal_task_queue)
    friday = Policy.model_validate({"program": {"learning_weekday": "friday", "start_days_ahead": 1}})
    await ensure_weekly_schedule(harness.client, friday, harness.settings.temporal_task_queue)

    description = await harness.client.get_schedule_handle(SCHEDULE_ID).describe()
    calendar = description.schedule.spec.calendars[0]
    assert [r.start for r in calendar.day_of_week] == [4]  # Thursday, a day before Friday
    schedules = [s.id async for s in await harness.client.list_schedules()]
    assert schedules.count(SCHEDULE_ID) == 1
    await harness.client.get_schedule_handle(SCHEDULE_ID).delete()


def test_learning_day_workflow_ids_carry_the_person_id_not_their_name() -> None:
    assert workflow_id_for(42, dt.date(2026, 12, 3)) == "learning-day-42-2026-12-03"
