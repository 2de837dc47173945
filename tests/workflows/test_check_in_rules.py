"""When a check-in counts, decided once by the workflow with policies/, and kept by the database.

- a partial absence holds the day and excuses only the check-in whose deadline it covers;
- a plan before the day starts (a Sunday `/learning plan` for Thursday) is too early, refused;
- a plan after the deadline but within grace is accepted as late; after the grace it is too
  late: refused with a clear message, the miss stands and nothing is shared;
- plans sent at once are decided one at a time, and the database holds the workflow's last one.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from learningday.checkins import CheckInSubmission
from learningday.contracts.calendar import CalendarEvent
from learningday.contracts.day import SkipRequest
from learningday.db.models import AuditEntry, CheckIn, Flag, LearningDay
from learningday.temporal.gateway import TemporalCheckInGateway
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin, thursday_ahead
from tests.workflows.conftest import Harness
from tests.workflows.test_learning_day import add_person, compact_policy, plan, prompted, start_day_ahead, summary
from workflows.learning_day import LearningDayWorkflow


def away(title: str, start: dt.datetime, end: dt.datetime) -> CalendarEvent:
    return CalendarEvent(
        event_id=f"ooo-{start:%H%M}", title=title, starts_at=start, ends_at=end, event_type="outOfOffice"
    )


async def refusal(update: object) -> str:
    try:
        await update  # type: ignore[misc]
    except WorkflowUpdateFailedError as error:
        return str(error.cause)
    raise AssertionError("the check-in was accepted")


# --- absences ----------------------------------------------------------------------------------


async def next_thursday(env: WorkflowEnvironment) -> dt.date:
    return thursday_ahead(await env.get_current_time(), compact_policy())


async def test_a_partial_absence_holds_the_day_and_excuses_only_the_check_in_it_covers(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    harness, person, date = skipping_harness, add_person(session), await next_thursday(skipping_env)
    # The compact day is 09:00–10:00 in Berlin; the plan is due at 09:20, the summary at 09:50.
    harness.calendar.away[person.email] = [away("Dentist", berlin(date, 9, 15), berlin(date, 9, 30))]
    handle, _ = await start_day_ahead(skipping_env, harness, person, date)
    view = await handle.result()  # nobody answers

    assert view.state == "completed" and len(harness.calendar.holds) == 1
    assert view.prompts_sent[:2] == ["plan:prompt:0", "plan:reminder:1"]
    assert view.excused == ["plan"] and view.flags == ["missed_summary"]
    flags = session.scalars(select(Flag.kind).where(Flag.person_id == person.id)).all()
    assert [f.value for f in flags] == ["missed_summary"]
    excused = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "plan_excused")).all()
    assert len(excused) == 1 and "Dentist" in excused[0]["reason"]


async def test_a_30_minute_errand_does_not_skip_the_day(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    harness, person, date = skipping_harness, add_person(session), await next_thursday(skipping_env)
    harness.calendar.away[person.email] = [away("Post office", berlin(date, 9, 31), berlin(date, 9, 36))]
    handle, _ = await start_day_ahead(skipping_env, harness, person, date)
    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, plan())
    await advance_to(skipping_env, berlin(date, 9, 33))  # during the errand
    await prompted(handle, "summary:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())
    view = await handle.result()

    assert (view.state, view.flags, view.excused) == ("completed", [], [])
    assert len(harness.calendar.holds) == 1


async def test_out_of_office_for_all_the_working_hours_in_pieces_skips_the_day(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    harness, person, date = skipping_harness, add_person(session), await next_thursday(skipping_env)
    harness.calendar.away[person.email] = [
        away("Conference", berlin(date, 8, 0), berlin(date, 9, 40)),
        away("Travel home", berlin(date, 9, 40), berlin(date, 11, 0)),
    ]
    view = await (await start_day_ahead(skipping_env, harness, person, date))[0].result()

    assert view.state == "skipped" and "Conference, Travel home" in (view.skip_reason or "")
    assert harness.calendar.holds == {} and harness.chat.prompts == {}


# --- too early, late, too late ------------------------------------------------------------------


async def test_a_plan_sent_before_the_learning_day_starts_is_refused_as_too_early(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    person = add_person(session)
    handle, date = await start_day_ahead(skipping_env, skipping_harness, person)

    async def day_recorded() -> bool:
        return session.scalar(select(LearningDay.id).where(LearningDay.person_id == person.id)) is not None

    await eventually(day_recorded, what="the day's row")
    # `/learning plan` on Sunday: the gateway finds Thursday's open day, the workflow refuses.
    result = await TemporalCheckInGateway(skipping_harness.client).submit(
        CheckInSubmission(person_email=person.email, kind="plan", text="Read about Raft", source="slack_modal")
    )

    assert not result.accepted
    assert f"Thursday {date.day} {date:%B}" in result.message and "opens that day" in result.message
    assert (await handle.query(LearningDayWorkflow.status)).plan is None
    session.expire_all()
    assert session.scalars(select(CheckIn)).all() == []
    await handle.terminate("test over")


async def test_a_plan_within_the_grace_is_late_and_after_it_too_late(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    handle, date = await start_day_ahead(skipping_env, skipping_harness, add_person(session))
    await advance_to(skipping_env, berlin(date, 9, 22))  # after the 09:20 deadline, within 5 minutes of grace
    late = await handle.execute_update(LearningDayWorkflow.submit_check_in, plan("Raft, late"))
    assert late.late
    await advance_to(skipping_env, berlin(date, 9, 27))  # past the grace: 09:25
    message = await refusal(handle.execute_update(LearningDayWorkflow.submit_check_in, plan("Raft, edited too late")))

    assert "closed at 09:25" in message and "stays as you last saved it" in message and "not saved" in message
    view = await handle.query(LearningDayWorkflow.status)
    assert view.plan == "Raft, late" and view.flags == []
    await handle.terminate("test over")


async def test_a_plan_after_its_cutoff_is_refused_and_the_miss_stands(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    harness = skipping_harness
    handle, date = await start_day_ahead(skipping_env, harness, add_person(session))
    await advance_to(skipping_env, berlin(date, 9, 31))  # the plan's cutoff (09:25) has passed unanswered
    await prompted(handle, "summary:prompt:0")

    message = await refusal(handle.execute_update(LearningDayWorkflow.submit_check_in, plan("Better late than never")))
    assert "recorded as missed" in message and "summary is due" in message
    await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())
    view = await handle.result()

    assert view.plan is None and view.flags == ["missed_plan"]
    assert [p.kind for p in harness.chat.posts.values()] == ["summary"]  # the refused plan was never shared
    kinds = session.scalars(select(CheckIn.kind)).all()
    assert [k.value for k in kinds] == ["summary"]


# --- one at a time -------------------------------------------------------------------------------


async def test_plans_sent_at_once_leave_the_workflow_and_the_database_agreeing(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    handle, date = await start_day_ahead(skipping_env, skipping_harness, add_person(session))
    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    texts = [f"Plan number {n}" for n in range(10)]

    answers = await asyncio.gather(
        *(handle.execute_update(LearningDayWorkflow.submit_check_in, plan(text)) for text in texts)
    )
    view = await handle.query(LearningDayWorkflow.status)
    session.expire_all()
    stored = session.scalars(select(CheckIn).where(CheckIn.kind == "plan")).one()

    assert stored.text == view.plan
    assert sorted(a.edited for a in answers) == [False] + [True] * (len(texts) - 1)
    assert stored.revision == len(texts)
    await handle.execute_update(LearningDayWorkflow.skip, SkipRequest(reason="test over"))
    await handle.result()
