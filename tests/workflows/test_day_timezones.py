"""A real, uncompressed Learning Day in the person's own timezone, across DST changes.

Runs on the time-skipping test server: the workflow sleeps until 09:00 local on a Thursday around
the next spring-forward and the server skips ahead, so the instants it acted on are the policy's,
to the minute. The server's clock starts at the real date, so the Thursdays are found from today
(the next DST change in each zone), not written down: a fixed date would pass and break the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from learningday.cli import app
from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db.models import Person
from policies.policy import Policy
from tests.conftest import reset_caches
from tests.waiting import eventually
from tests.workflows.conftest import Harness
from workflows.learning_day import LearningDayWorkflow

UTC = dt.UTC


def around_spring_forward(timezone: str) -> tuple[dt.date, dt.date]:
    """The Thursdays just before and just after the zone's next spring-forward (clocks go ahead)."""
    zone = ZoneInfo(timezone)
    day = dt.date.today() + dt.timedelta(days=7)
    offset = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
    while True:
        day += dt.timedelta(days=1)
        later = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
        if later is not None and offset is not None and later > offset:
            before = day - dt.timedelta(days=(day.weekday() - 3) % 7 or 7)
            return before, before + dt.timedelta(weeks=1)
        offset = later


def at_utc(date: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(hour), UTC)


def a_thursday_ahead() -> dt.date:
    day = dt.date.today() + dt.timedelta(days=7)
    return day + dt.timedelta(days=(3 - day.weekday()) % 7)


async def run_day(h: Harness, session: Session, timezone: str, date: dt.date) -> DayView:
    person = Person(email=f"p{date:%m%d}@example.com", name="P", timezone=timezone)
    session.add(person)
    session.commit()
    return await h.client.execute_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date),
        id=workflow_id_for(person.id, date),
        task_queue=h.settings.temporal_task_queue,
        result_type=DayView,
    )


LOS_ANGELES = around_spring_forward("America/Los_Angeles")
BERLIN = around_spring_forward("Europe/Berlin")
TONGA = a_thursday_ahead()


@pytest.mark.parametrize(
    ("timezone", "date", "hold_start_utc", "plan_prompt_utc"),
    [
        # 09:00 PST is 17:00 UTC; after the US spring-forward 09:00 PDT is 16:00 UTC.
        ("America/Los_Angeles", LOS_ANGELES[0], at_utc(LOS_ANGELES[0], 17), "17:00"),
        ("America/Los_Angeles", LOS_ANGELES[1], at_utc(LOS_ANGELES[1], 16), "16:00"),
        # 09:00 CET is 08:00 UTC; after the EU spring-forward 09:00 CEST is 07:00 UTC.
        ("Europe/Berlin", BERLIN[0], at_utc(BERLIN[0], 8), "08:00"),
        ("Europe/Berlin", BERLIN[1], at_utc(BERLIN[1], 7), "07:00"),
        # UTC+13: Thursday 09:00 in Tonga is Wednesday 20:00 UTC.
        ("Pacific/Tongatapu", TONGA, at_utc(TONGA - dt.timedelta(days=1), 20), "20:00"),
    ],
)
async def test_the_day_follows_local_time_through_dst(
    skipping_harness: Harness,
    session: Session,
    timezone: str,
    date: dt.date,
    hold_start_utc: dt.datetime,
    plan_prompt_utc: str,
) -> None:
    view = await run_day(skipping_harness, session, timezone, date)

    (hold,) = skipping_harness.calendar.holds.values()
    assert hold.starts_at == hold_start_utc
    assert hold.ends_at - hold.starts_at == dt.timedelta(hours=8, minutes=30)
    assert hold.timezone == timezone and hold.date == date
    assert view.instants is not None
    assert f"{view.instants.plan_prompt:%H:%M}" == plan_prompt_utc
    # Nobody answered: both prompts, both reminders, both misses, in that order.
    assert view.prompts_sent == ["plan:prompt:0", "plan:reminder:1", "summary:prompt:0", "summary:reminder:1"]
    assert view.flags == ["missed_plan", "missed_summary"]


async def test_day_refresh_after_a_policy_change_moves_the_hold_in_place_and_the_prompts(
    skipping_env: WorkflowEnvironment,
    skipping_harness: Harness,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = Person(email="mover@example.com", name="M", timezone="Europe/Berlin")
    session.add(person)
    session.commit()
    date = BERLIN[0]  # 09:00 CET is 08:00 UTC
    now = await skipping_env.get_current_time()
    assert now.date() < date, "precondition: the day is still to come on this server's clock"
    handle = await skipping_harness.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date),
        id=workflow_id_for(person.id, date),
        task_queue=skipping_harness.settings.temporal_task_queue,
    )

    async def held() -> bool:
        return (await handle.query(LearningDayWorkflow.status)).hold_event_id is not None

    await eventually(held, what="the hold")
    skipping_harness.policy = Policy.model_validate(
        {"working_hours": {"start": "10:00", "end": "16:00"}, "checkins": {"plan_prompt": "10:00"}}
    )
    monkeypatch.setenv("LEARNINGDAY_TEMPORAL_ADDRESS", skipping_harness.client.service_client.config.target_host)
    reset_caches()
    try:
        refreshed = await asyncio.to_thread(CliRunner().invoke, app, ["day", "refresh"])
    finally:
        monkeypatch.delenv("LEARNINGDAY_TEMPORAL_ADDRESS")
        reset_caches()
    assert refreshed.exit_code == 0, refreshed.output
    assert "1 open Learning Day(s) re-read the policy" in refreshed.output
    view = await handle.result()

    (hold,) = skipping_harness.calendar.holds.values()
    assert skipping_harness.calendar.inserts == 1  # updated in place, never re-created
    assert (hold.starts_at, hold.ends_at) == (
        at_utc(date, 9),
        at_utc(date, 15),
    )
    assert view.instants is not None and view.instants.plan_prompt == at_utc(date, 9)
