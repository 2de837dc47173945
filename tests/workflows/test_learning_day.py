"""One person's Learning Day, acted on at the policy's own times on the time-skipping test server.

The compact policy squeezes the day into 55 policy minutes in Berlin (prompt 09:00, reminder
09:10, plan deadline 09:20 + 5 min grace, summary 09:30 / 09:40 / 09:50 + 5 min). The day runs
uncompressed on a Thursday ahead of the server's clock: a test moves the clock to the minute it
acts at (tests/workflows/clock.py) and awaiting the result skips through the rest.

`start_day` runs the same day compressed on the real dev server, for the fault tests that stop
a server or a database while a day runs.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from learningday.contracts.day import CheckInUpdate, DayView, LearningDayInput, SkipRequest, workflow_id_for
from learningday.db.models import Absence, CheckIn, DayState, Flag, LearningDay, Person
from policies.policy import Policy
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin, thursday_ahead
from tests.workflows.conftest import Harness
from workflows.learning_day import LearningDayWorkflow

THURSDAY = dt.date(2026, 12, 3)
THANKSGIVING = dt.date(2026, 11, 26)
SCALE = 300.0


def compact_policy() -> Policy:
    return Policy.model_validate(
        {
            "working_hours": {"start": "09:00", "end": "10:00"},
            "checkins": {
                "plan_prompt": "09:00",
                "plan_reminders": ["09:10"],
                "plan_deadline": "09:20",
                "plan_grace_minutes": 5,
                "summary_prompt": "09:30",
                "summary_reminders": ["09:40"],
                "summary_deadline": "09:50",
                "summary_grace_minutes": 5,
            },
        }
    )


def add_person(session: Session, email: str = "ada@example.com", tz: str = "Europe/Berlin") -> Person:
    person = Person(email=email, name="Ada Lovelace", timezone=tz, team="Research")
    session.add(person)
    session.commit()
    return person


async def start_day(h: Harness, person: Person, date: dt.date = THURSDAY) -> WorkflowHandle:
    """The compact day, 300 times faster, on the dev server: about eleven seconds of real time."""
    h.policy = compact_policy()
    return await h.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date, time_scale=SCALE),
        id=workflow_id_for(person.id, date),
        task_queue=h.settings.temporal_task_queue,
    )


async def start_day_ahead(
    env: WorkflowEnvironment, h: Harness, person: Person, date: dt.date | None = None
) -> tuple[WorkflowHandle, dt.date]:
    """The compact day, uncompressed, on the time-skipping server: by default the next working
    Thursday, started ahead as the kickoff does."""
    h.policy = compact_policy()
    date = date or thursday_ahead(await env.get_current_time(), h.policy)
    handle = await h.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date),
        id=workflow_id_for(person.id, date),
        task_queue=h.settings.temporal_task_queue,
    )
    return handle, date


async def prompted(handle: WorkflowHandle, key: str) -> None:
    async def seen() -> bool:
        view: DayView = await handle.query(LearningDayWorkflow.status)
        return key in view.prompts_sent

    await eventually(seen)


def plan(text: str = "Reimplement the Reptile paper in JAX", **extra: str) -> CheckInUpdate:
    return CheckInUpdate(kind="plan", text=text, source="web", category="papers", **extra)


def summary(text: str = "Got Reptile training on Omniglot") -> CheckInUpdate:
    return CheckInUpdate(kind="summary", text=text, source="web")


async def test_on_time_day_holds_prompts_records_and_shares_in_a_thread(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    h, person = skipping_harness, add_person(session)
    handle, date = await start_day_ahead(skipping_env, h, person)

    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    accepted = await handle.execute_update(LearningDayWorkflow.submit_check_in, plan(why="For meta-RL"))
    assert (accepted.edited, accepted.late) == (False, False)
    await advance_to(skipping_env, berlin(date, 9, 31))
    await prompted(handle, "summary:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())
    view = await handle.result()

    assert view.state == "completed"
    assert view.flags == [] and view.problems == []
    assert view.prompts_sent == ["plan:prompt:0", "summary:prompt:0"]
    assert view.plan_at is not None and berlin(date, 9, 1) <= view.plan_at < berlin(date, 9, 20)
    assert view.summary_at is not None and berlin(date, 9, 31) <= view.summary_at < berlin(date, 9, 50)
    assert len(h.calendar.holds) == 1 and h.calendar.inserts == 1
    posts = sorted(h.chat.posts.values(), key=lambda p: p.kind)
    assert [(p.kind, p.text) for p in posts] == [
        ("plan", "Reimplement the Reptile paper in JAX"),
        ("summary", "Got Reptile training on Omniglot"),
    ]
    assert posts[1].thread_ts is not None  # the summary answers the plan's thread
    day = session.scalar(select(LearningDay).where(LearningDay.person_id == person.id))
    assert day is not None and day.state == DayState.completed
    assert day.channel_thread_ts == posts[1].thread_ts
    kinds = session.scalars(select(CheckIn.kind).where(CheckIn.learning_day_id == day.id)).all()
    assert sorted(k.value for k in kinds) == ["plan", "summary"]


async def test_no_plan_is_reminded_then_flagged_once(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    h, person = skipping_harness, add_person(session)
    handle, date = await start_day_ahead(skipping_env, h, person)

    await advance_to(skipping_env, berlin(date, 9, 31))  # the plan's cutoff (09:25) has passed
    await prompted(handle, "summary:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())
    view = await handle.result()

    assert view.flags == ["missed_plan"]
    assert view.prompts_sent == ["plan:prompt:0", "plan:reminder:1", "summary:prompt:0"]
    flags = session.scalars(select(Flag).where(Flag.person_id == person.id)).all()
    assert [(f.kind.value, f.date) for f in flags] == [("missed_plan", date)]
    assert [p.kind for p in h.chat.posts.values()] == ["summary"]


async def test_late_plan_after_reminder_is_not_a_miss(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    h, person = skipping_harness, add_person(session)
    handle, date = await start_day_ahead(skipping_env, h, person)

    await advance_to(skipping_env, berlin(date, 9, 11))  # reminded at 09:10, due at 09:20
    await prompted(handle, "plan:reminder:1")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, plan())
    await advance_to(skipping_env, berlin(date, 9, 31))
    await prompted(handle, "summary:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())
    view = await handle.result()

    assert view.flags == []
    assert view.prompts_sent == ["plan:prompt:0", "plan:reminder:1", "summary:prompt:0"]


async def test_a_plan_can_be_edited_after_it_was_submitted(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    handle, date = await start_day_ahead(skipping_env, skipping_harness, add_person(session))

    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    first = await handle.execute_update(LearningDayWorkflow.submit_check_in, plan("Read about Raft"))
    await advance_to(skipping_env, berlin(date, 9, 15))
    second = await handle.execute_update(LearningDayWorkflow.submit_check_in, plan("Read the Raft paper"))
    await handle.execute_update(LearningDayWorkflow.skip, SkipRequest(reason="test over"))
    await handle.result()

    assert (first.edited, second.edited) == (False, True)
    check_in = session.scalar(select(CheckIn).where(CheckIn.kind == "plan"))
    assert check_in is not None
    assert check_in.text == "Read the Raft paper" and check_in.edited_at is not None


async def test_an_empty_or_uncategorised_plan_is_refused_with_the_field(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    from temporalio.client import WorkflowUpdateFailedError

    handle, date = await start_day_ahead(skipping_env, skipping_harness, add_person(session))
    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    try:
        await handle.execute_update(
            LearningDayWorkflow.submit_check_in,
            CheckInUpdate(kind="plan", text="  ", source="web", category="netflix"),
        )
    except WorkflowUpdateFailedError as error:
        message = str(error.cause)
        assert "text:" in message and "category:" in message and "netflix" in message
    else:
        raise AssertionError("an empty plan was accepted")
    await handle.execute_update(LearningDayWorkflow.skip, SkipRequest(reason="test over"))
    assert (await handle.result()).plan is None
    assert session.scalars(select(CheckIn)).all() == []


async def test_company_holiday_is_skipped_with_its_reason_and_no_hold(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    h, person = skipping_harness, add_person(session, tz="America/New_York")
    handle, _ = await start_day_ahead(skipping_env, h, person, THANKSGIVING)
    view = await handle.result()

    assert view.state == "skipped"
    assert view.skip_reason is not None and "Thanksgiving" in view.skip_reason
    assert h.calendar.holds == {} and h.chat.prompts == {} and view.flags == []


async def test_out_of_office_on_the_calendar_skips_the_day(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    h, person = skipping_harness, add_person(session)
    h.calendar.out_of_office[person.email] = "Conference in Lisbon"
    view = await (await start_day_ahead(skipping_env, h, person))[0].result()

    assert view.state == "skipped" and "Conference in Lisbon" in (view.skip_reason or "")
    assert h.chat.prompts == {}
    assert session.scalars(select(Flag)).all() == []


async def test_an_exception_recorded_in_the_service_skips_the_day(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    person = add_person(session)
    date = thursday_ahead(await skipping_env.get_current_time(), compact_policy())
    session.add(Absence(person_id=person.id, start_date=date, end_date=date, reason="Parental leave"))
    session.commit()
    view = await (await start_day_ahead(skipping_env, skipping_harness, person, date))[0].result()

    assert view.state == "skipped" and "Parental leave" in (view.skip_reason or "")
    assert skipping_harness.chat.prompts == {}


async def test_skipping_mid_day_removes_the_hold_and_is_not_a_miss(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    h, person = skipping_harness, add_person(session)
    handle, date = await start_day_ahead(skipping_env, h, person)
    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    await handle.execute_update(LearningDayWorkflow.skip, SkipRequest(reason="Sick"))
    view = await handle.result()

    assert view.state == "skipped" and view.skip_reason == "Sick"
    assert h.calendar.holds == {} and len(h.calendar.removed) == 1
    assert view.flags == [] and view.prompts_sent == ["plan:prompt:0"]
    day = session.scalar(select(LearningDay))
    assert day is not None and day.state == DayState.skipped and day.skip_reason == "Sick"
