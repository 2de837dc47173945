"""The demo's story: history weeks before the live day, which is never a future Thursday when a
past one can be played; every day played through the real workflows."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowQueryFailedError

from learningday.db.models import Flag, LearningDay, Person
from learningday.demo.actors import act
from learningday.demo.progress import DayWatch
from learningday.demo.run import told_if_it_stops
from learningday.demo.story import HISTORY_TIME_SCALE, Learner, demo_dates, play_day
from policies.policy import Policy
from tests.workflows.conftest import Harness, harness  # noqa: F401 - fixture

SUNDAY = dt.date(2026, 11, 29)
THURSDAY_BEFORE = dt.date(2026, 11, 19)  # 26 Nov is Thanksgiving in the default (US) calendar
NO_HOLIDAYS = Policy.model_validate({"holidays": {"country": None}})


def test_the_live_day_is_the_latest_thursday_up_to_today_and_history_the_weeks_before() -> None:
    dates = demo_dates(NO_HOLIDAYS, SUNDAY, taken=set(), weeks=3)

    assert dates.live == dt.date(2026, 11, 26)
    assert dates.history == [dt.date(2026, 11, 5), dt.date(2026, 11, 12), dt.date(2026, 11, 19)]


def test_on_a_thursday_the_live_day_is_today() -> None:
    assert demo_dates(NO_HOLIDAYS, dt.date(2026, 11, 26), taken=set(), weeks=1).live == dt.date(2026, 11, 26)


def test_a_holiday_is_passed_over_backwards_not_into_the_future() -> None:
    dates = demo_dates(Policy(), SUNDAY, taken=set(), weeks=2)

    assert dates.live == THURSDAY_BEFORE
    assert dates.history == [dt.date(2026, 11, 5), dt.date(2026, 11, 12)]


def test_a_second_demo_on_the_same_database_plays_the_next_free_day_ahead_and_no_day_twice() -> None:
    first = demo_dates(NO_HOLIDAYS, SUNDAY, taken=set(), weeks=2)
    taken = {first.live, *first.history}

    second = demo_dates(NO_HOLIDAYS, SUNDAY, taken=taken, weeks=2)

    assert second.live == dt.date(2026, 12, 3) and second.history == []


async def test_a_history_week_plays_through_the_workflows_with_kept_and_missed_days(
    harness: Harness, session: Session
) -> None:
    crew = [Person(email=f"p{i}@example.com", name=f"Person {i}", timezone="Europe/London") for i in range(4)]
    session.add_all(crew)
    session.commit()
    learners = [Learner(p.id, p.email, p.name) for p in crew]
    said: list[str] = []
    date = dt.date(2033, 3, 3)  # a Thursday no other test plays on the shared dev server

    # Week 1's cast: person 3 never writes a summary; the others keep the day.
    ended = await play_day(
        harness.client,
        harness.settings.temporal_task_queue,
        harness.policy,
        learners,
        date,
        HISTORY_TIME_SCALE,
        week=1,
        echo=said.append,
    )

    session.expire_all()
    states = {d.person_id: d.state.value for d in session.scalars(select(LearningDay).where(LearningDay.date == date))}
    flagged = {f.person_id for f in session.scalars(select(Flag).where(Flag.date == date))}
    assert states == {p.id: "completed" for p in crew}
    assert flagged == {crew[3].id}
    assert ended["missed"] == 1 and ended["kept"] + ended["missed"] == 4
    assert any("Person 3" in line and "no summary by the deadline" in line for line in said), "\n".join(said)
    assert any("Person 0" in line and "plan: " in line for line in said)


class _DayThatCannotAnswer:
    """A client whose every day fails its status query, as a day whose replay fails does."""

    def get_workflow_handle(self, workflow_id: str) -> _DayThatCannotAnswer:
        return self

    async def query(self, *args: object, **kwargs: object) -> None:
        raise WorkflowQueryFailedError("Nondeterminism error")


async def test_a_day_that_cannot_answer_its_status_neither_stalls_nor_ends_the_story() -> None:
    client = _DayThatCannotAnswer()
    said: list[str] = []
    watch = DayWatch(client, {1: "Person 1"}, dt.date(2033, 3, 3), said.append)  # type: ignore[arg-type]

    await asyncio.wait_for(
        act(
            client,
            gateway=None,
            index=0,
            person_id=1,
            email="p1@example.com",  # type: ignore[arg-type]
            date=dt.date(2033, 3, 3),
        ),
        timeout=5,
    )
    await watch._look()

    assert said == [] and (await watch.outcomes())["open"] == 1


async def test_a_story_that_fails_says_so_instead_of_going_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    async def story() -> None:
        raise WorkflowQueryFailedError("Nondeterminism error")

    await told_if_it_stops(story())

    assert capsys.readouterr().err.startswith(
        "The demo stopped playing: WorkflowQueryFailedError('Nondeterminism error')."
    )
