"""When things happen on a Learning Day: the policy's local wall-clock times, in UTC.

The seed puts Learning Day on the same weekday for every team, in each person's own timezone.
Local times are resolved with `zoneinfo`, so a DST change week moves the UTC instants with
the clocks; a wall-clock time that does not exist (spring forward gap) is read with the offset
before the gap, so it lands after the gap by the gap's length (02:30 → 03:30, as RFC 5545 and
calendar clients do), and an ambiguous one (fall back) is its first occurrence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from policies.policy import Policy

UTC = dt.UTC


@dataclass(frozen=True)
class DayInstants:
    """Every moment of one person's Learning Day, as aware UTC datetimes."""

    day_start: dt.datetime
    day_end: dt.datetime
    plan_prompt: dt.datetime
    plan_reminders: list[dt.datetime]
    plan_deadline: dt.datetime
    plan_cutoff: dt.datetime  # deadline + grace: no plan by now is a miss
    summary_prompt: dt.datetime
    summary_reminders: list[dt.datetime]
    summary_deadline: dt.datetime
    summary_cutoff: dt.datetime


def local_to_utc(date: dt.date, clock: dt.time, timezone: str) -> dt.datetime:
    """The UTC instant of a local wall-clock time on a date, DST-correct.

    A time inside a spring-forward gap does not exist locally; it is read with the offset in
    force before the gap (fold=0), which puts it after the gap (02:30 → 03:30), so nothing
    fires before the local time it names. An ambiguous fall-back time takes its first
    occurrence (fold=0), the one a person's calendar shows.
    """
    # PEP 495: fold=0 uses the pre-transition offset for both gaps and folds, which is exactly
    # the rule above. (fold=1 would put a gap time an hour *before* the gap.)
    local = dt.datetime.combine(date, clock, tzinfo=ZoneInfo(timezone)).replace(fold=0)
    return local.astimezone(UTC)


def day_instants(policy: Policy, timezone: str, date: dt.date) -> DayInstants:
    """The policy's times for `date` in `timezone`, in UTC (rule: same weekday, local time)."""
    hours, checkins = policy.working_hours, policy.checkins

    def at(clock: dt.time) -> dt.datetime:
        return local_to_utc(date, clock, timezone)

    plan_deadline = at(checkins.plan_deadline)
    summary_deadline = at(checkins.summary_deadline)
    return DayInstants(
        day_start=at(hours.start),
        day_end=at(hours.end),
        plan_prompt=at(checkins.plan_prompt),
        plan_reminders=[at(t) for t in checkins.plan_reminders],
        plan_deadline=plan_deadline,
        plan_cutoff=plan_deadline + dt.timedelta(minutes=checkins.plan_grace_minutes),
        summary_prompt=at(checkins.summary_prompt),
        summary_reminders=[at(t) for t in checkins.summary_reminders],
        summary_deadline=summary_deadline,
        summary_cutoff=summary_deadline + dt.timedelta(minutes=checkins.summary_grace_minutes),
    )


def compress(instants: DayInstants, origin: dt.datetime, time_scale: float) -> DayInstants:
    """Run the same day faster: every instant moves to `origin + (t - day_start) / time_scale`.

    Used by `learningday day start --time-scale` and the demo so a working day passes in a
    minute on the real Temporal server, with the order and proportions of the real day.
    """
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    if time_scale == 1 and origin == instants.day_start:
        return instants
    base = instants.day_start

    def move(t: dt.datetime) -> dt.datetime:
        return compress_instant(t, base, origin, time_scale)

    return replace(
        instants,
        day_start=move(instants.day_start),
        day_end=move(instants.day_end),
        plan_prompt=move(instants.plan_prompt),
        plan_reminders=[move(t) for t in instants.plan_reminders],
        plan_deadline=move(instants.plan_deadline),
        plan_cutoff=move(instants.plan_cutoff),
        summary_prompt=move(instants.summary_prompt),
        summary_reminders=[move(t) for t in instants.summary_reminders],
        summary_deadline=move(instants.summary_deadline),
        summary_cutoff=move(instants.summary_cutoff),
    )


def compress_instant(t: dt.datetime, day_start: dt.datetime, origin: dt.datetime, time_scale: float) -> dt.datetime:
    """One instant of a compressed day (see `compress`): `origin + (t - day_start) / time_scale`."""
    return origin + (t - day_start) / time_scale


def next_learning_day(policy: Policy, today: dt.date) -> dt.date:
    """The first Learning Day on or after `today`."""
    ahead = (policy.learning_weekday_index - today.weekday()) % 7
    return today + dt.timedelta(days=ahead)


def is_learning_day(policy: Policy, date: dt.date) -> bool:
    return date.weekday() == policy.learning_weekday_index


def start_date_problem(policy: Policy, date: dt.date, today: dt.date) -> str | None:
    """Why a Learning Day should not be started on `date` by hand, or None.

    A day runs forward from its date: one already past would flag every check-in as missed at
    once and email managers about a day nobody was asked about. And the program gives one
    weekday a week (`program.learning_weekday`): a day on another weekday is a typo, or an
    exception worth saying so (`--force`).
    """
    if date < today:
        return f"{date:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d})"
    if not is_learning_day(policy, date):
        return (
            f"{date:%Y-%m-%d} is a {date:%A}; the policy's Learning Day is "
            f"{policy.program.learning_weekday.capitalize()}"
        )
    return None
