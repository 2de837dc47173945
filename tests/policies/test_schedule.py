"""Learning Day instants: the policy's local times in each person's timezone, DST-correct, in UTC."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple

import pytest

from policies.policy import Policy
from policies.schedule import (
    DayInstants,
    compress,
    day_instants,
    is_learning_day,
    local_to_utc,
    next_learning_day,
)

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def policy(**sections: dict) -> Policy:
    return Policy.model_validate(sections)


def flat(instants: DayInstants) -> list[dt.datetime]:
    """Every instant of the day in field order, reminders expanded."""
    out: list[dt.datetime] = []
    for value in astuple(instants):
        out.extend(value if isinstance(value, list) else [value])
    return out


# --- DST weeks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "utc_hour_before", "utc_hour_after"),
    [
        # Spring forward on Sunday 2026-03-08: PST (UTC-8) → PDT (UTC-7).
        (dt.date(2026, 3, 5), dt.date(2026, 3, 12), 17, 16),
        # Fall back on Sunday 2026-11-01: PDT → PST.
        (dt.date(2026, 10, 29), dt.date(2026, 11, 5), 16, 17),
    ],
)
def test_los_angeles_thursdays_move_one_hour_in_utc_across_a_dst_change(
    before: dt.date, after: dt.date, utc_hour_before: int, utc_hour_after: int
) -> None:
    rules = Policy()
    first = day_instants(rules, "America/Los_Angeles", before)
    second = day_instants(rules, "America/Los_Angeles", after)

    assert before.weekday() == after.weekday() == 3  # both Thursdays
    assert first.plan_prompt == dt.datetime.combine(before, dt.time(utc_hour_before), UTC)
    assert second.plan_prompt == dt.datetime.combine(after, dt.time(utc_hour_after), UTC)
    # Local wall-clock times stay put: 20:00 deadline both weeks.
    assert second.summary_deadline - second.plan_prompt == first.summary_deadline - first.plan_prompt


@pytest.mark.parametrize(
    ("before", "after", "utc_hour_before", "utc_hour_after"),
    [
        (dt.date(2026, 3, 26), dt.date(2026, 4, 2), 8, 7),  # 2026-03-29: CET → CEST
        (dt.date(2026, 10, 22), dt.date(2026, 10, 29), 7, 8),  # 2026-10-25: CEST → CET
    ],
)
def test_berlin_thursdays_move_one_hour_in_utc_across_a_dst_change(
    before: dt.date, after: dt.date, utc_hour_before: int, utc_hour_after: int
) -> None:
    first = day_instants(Policy(), "Europe/Berlin", before)
    second = day_instants(Policy(), "Europe/Berlin", after)

    assert first.plan_prompt == dt.datetime.combine(before, dt.time(utc_hour_before), UTC)
    assert second.plan_prompt == dt.datetime.combine(after, dt.time(utc_hour_after), UTC)


def test_between_the_us_and_eu_changes_berlin_is_eight_hours_ahead_of_los_angeles() -> None:
    # 2026-03-19: the US has sprung forward (03-08), Europe not yet (03-29).
    la = day_instants(Policy(), "America/Los_Angeles", dt.date(2026, 3, 19))
    berlin = day_instants(Policy(), "Europe/Berlin", dt.date(2026, 3, 19))
    normal_la = day_instants(Policy(), "America/Los_Angeles", dt.date(2026, 4, 16))
    normal_berlin = day_instants(Policy(), "Europe/Berlin", dt.date(2026, 4, 16))

    assert la.plan_prompt - berlin.plan_prompt == dt.timedelta(hours=8)
    assert normal_la.plan_prompt - normal_berlin.plan_prompt == dt.timedelta(hours=9)


def test_in_utc_plus_13_a_thursday_morning_is_wednesday_in_utc() -> None:
    # Auckland in its summer (NZDT, UTC+13).
    day = day_instants(Policy(), "Pacific/Auckland", dt.date(2026, 1, 15))

    assert day.plan_prompt == utc(2026, 1, 14, 20, 0)
    assert day.day_start.date() == dt.date(2026, 1, 14)  # Wednesday in UTC
    assert day.summary_deadline == utc(2026, 1, 15, 7, 0)


def test_tonga_is_utc_plus_13_all_year() -> None:
    winter = day_instants(Policy(), "Pacific/Tongatapu", dt.date(2026, 7, 16))

    assert winter.plan_prompt == utc(2026, 7, 15, 20, 0)


# --- times that do not exist or exist twice ----------------------------------------------


def test_a_day_start_inside_the_spring_forward_gap_lands_after_the_gap() -> None:
    # Learning Day on Sundays, the day starts at 02:30, which 2026-03-08 skips in Los Angeles.
    rules = policy(program={"learning_weekday": "sunday"}, working_hours={"start": "02:30"})
    day = day_instants(rules, "America/Los_Angeles", dt.date(2026, 3, 8))
    week_before = day_instants(rules, "America/Los_Angeles", dt.date(2026, 3, 1))

    assert day.day_start == utc(2026, 3, 8, 10, 30)  # 03:30 PDT: never before the gap
    assert day.day_start > utc(2026, 3, 8, 10, 0)  # 10:00 UTC is 03:00 PDT, the end of the gap
    assert week_before.day_start == utc(2026, 3, 1, 10, 30)  # 02:30 PST
    assert day.day_start < day.plan_prompt == utc(2026, 3, 8, 16, 0)  # 09:00 PDT


def test_a_gap_time_in_berlin_lands_after_the_gap() -> None:
    assert local_to_utc(dt.date(2026, 3, 29), dt.time(2, 30), "Europe/Berlin") == utc(2026, 3, 29, 1, 30)


def test_an_ambiguous_fall_back_time_is_its_first_occurrence() -> None:
    # 01:30 happens twice in Los Angeles on 2026-11-01: first in PDT (08:30 UTC), then PST.
    assert local_to_utc(dt.date(2026, 11, 1), dt.time(1, 30), "America/Los_Angeles") == utc(2026, 11, 1, 8, 30)


def test_cutoffs_add_the_grace_period_to_the_deadlines() -> None:
    rules = policy(checkins={"plan_grace_minutes": 45, "summary_grace_minutes": 0})
    day = day_instants(rules, "UTC", dt.date(2026, 6, 4))

    assert day.plan_cutoff == utc(2026, 6, 4, 12, 45)
    assert day.summary_cutoff == day.summary_deadline == utc(2026, 6, 4, 20, 0)


# --- compress ---------------------------------------------------------------------------


def test_compress_keeps_the_order_and_proportions_of_the_day() -> None:
    real = day_instants(Policy(), "Europe/Berlin", dt.date(2026, 6, 4))
    origin = utc(2030, 1, 1, 0, 0)

    fast = compress(real, origin, time_scale=540)

    assert fast.day_start == origin
    real_offsets = [t - real.day_start for t in flat(real)]
    fast_offsets = [t - fast.day_start for t in flat(fast)]
    assert [r / 540 for r in real_offsets] == fast_offsets
    assert sorted(flat(fast)) == [fast.day_start + o for o in sorted(fast_offsets)]
    # Plan prompt 09:00 to summary cutoff 21:00 (20:00 deadline + 60 min grace): 12 h → 80 s.
    assert fast.summary_cutoff - fast.plan_prompt == dt.timedelta(seconds=80)


def test_compress_at_real_speed_from_the_day_start_changes_nothing() -> None:
    real = day_instants(Policy(), "UTC", dt.date(2026, 6, 4))

    assert compress(real, real.day_start, 1) == real


def test_compress_refuses_a_non_positive_scale() -> None:
    real = day_instants(Policy(), "UTC", dt.date(2026, 6, 4))

    with pytest.raises(ValueError, match="time_scale must be positive"):
        compress(real, real.day_start, 0)


# --- which day --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 26), dt.date(2026, 11, 26)),  # a Thursday is its own Learning Day
        (dt.date(2026, 11, 27), dt.date(2026, 12, 3)),  # Friday → next week's Thursday
        (dt.date(2026, 12, 28), dt.date(2026, 12, 31)),  # across the year end
    ],
)
def test_next_learning_day_is_the_next_thursday_on_or_after_today(today: dt.date, expected: dt.date) -> None:
    assert next_learning_day(Policy(), today) == expected
    assert is_learning_day(Policy(), expected)


def test_next_learning_day_follows_the_policy_weekday() -> None:
    mondays = policy(program={"learning_weekday": "monday"})

    assert next_learning_day(mondays, dt.date(2026, 11, 26)) == dt.date(2026, 11, 30)
    assert not is_learning_day(mondays, dt.date(2026, 11, 26))
