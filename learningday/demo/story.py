"""The demo's story: a few past Learning Days played as history, then the latest one live.

A demo that plays only a future day contradicts itself: the Me page calls next Thursday both
"in 4 days" and "completed", the Team page's eight-week grid is empty, and the Program page's
default range (which ends today) holds nothing. So the demo plays the most recent Learning Day
(today, on the program's weekday) live, and before it the `weeks` Learning Days that precede it,
each through the real workflows at a high time scale: every row, flag, email and post the pages
show was made by the service, not inserted. Dates already played (a second demo on the same
database) are left as they are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from temporalio.client import Client

from activities.kickoff import Kickoff
from learningday.demo.actors import act
from learningday.demo.progress import DayWatch
from learningday.temporal.gateway import TemporalCheckInGateway
from policies.holidays import company_holiday
from policies.policy import Policy
from policies.schedule import next_learning_day

HISTORY_TIME_SCALE = 4320.0  # a 12-hour day in 10 seconds
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class DemoDates:
    history: list[dt.date]  # oldest first
    live: dt.date


def demo_dates(policy: Policy, today: dt.date, taken: set[dt.date], weeks: int) -> DemoDates:
    """The latest free Learning Day up to `today` to play live (a holiday or a day already
    played is passed over, looking back `weeks` weeks; when all are taken, the next free one
    ahead), and the `weeks` Learning Days before it as history, holidays and taken days left out."""

    def playable(date: dt.date) -> bool:
        return not company_holiday(policy, date) and date not in taken

    latest = next_learning_day(policy, today - dt.timedelta(days=6))
    recent = [latest - WEEK * back for back in range(weeks + 1)]
    live = next((date for date in recent if playable(date)), None)
    if live is None:
        live = latest
        while not playable(live):
            live = next_learning_day(policy, live + dt.timedelta(days=1))
    history = [live - WEEK * back for back in range(weeks, 0, -1)]
    return DemoDates(history=[date for date in history if playable(date)], live=live)


@dataclass(frozen=True)
class Learner:
    person_id: int
    email: str
    name: str


async def play_day(
    client: Client,
    task_queue: str,
    policy: Policy,
    learners: Sequence[Learner],
    date: dt.date,
    time_scale: float,
    week: int,
    echo: Callable[[str], None] | None = None,
) -> Counter[str]:
    """Start everyone's day on `date`, let the simulated learners answer in character (`week`
    picks who slips), print what happens when `echo` is given, and return how the days ended:
    a count of kept, missed and skipped."""
    kickoff = Kickoff(client, task_queue, lambda: policy)
    await asyncio.gather(*(kickoff.start_day(p.person_id, date, time_scale) for p in learners))
    gateway = TemporalCheckInGateway(client)
    watch = DayWatch(client, {p.person_id: p.name for p in learners}, date, echo)
    watching = asyncio.create_task(watch.follow())
    try:
        await asyncio.gather(
            *(act(client, gateway, i, p.person_id, p.email, date, week=week) for i, p in enumerate(learners))
        )
    finally:
        watch.stop()
        await watching
    return await watch.outcomes()
