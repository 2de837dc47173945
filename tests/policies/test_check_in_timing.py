"""The rules a day's workflow acts on, pure: absences, when a check-in counts, who hears of a flag."""

from __future__ import annotations

import datetime as dt

import pytest

from policies import checkins
from policies.enforcement import FlagReader, day_status, flag_recipients
from policies.policy import Policy
from policies.schedule import day_instants

THURSDAY = dt.date(2026, 12, 3)
POLICY = Policy()
DAY = day_instants(POLICY, "Europe/Berlin", THURSDAY)  # 09:00–17:30, plan by 12:00, summary by 20:00
OPENS = checkins.day_opens(THURSDAY, "Europe/Berlin")


def local(hh: int, mm: int = 0) -> dt.datetime:
    """Thursday hh:mm in Berlin (UTC+1 in December), in UTC."""
    return dt.datetime(2026, 12, 3, hh, mm, tzinfo=dt.UTC) - dt.timedelta(hours=1)


def away(start: dt.datetime, end: dt.datetime, title: str = "Out") -> checkins.OutOfOffice:
    return checkins.OutOfOffice(title=title, starts_at=start, ends_at=end)


def test_the_day_opens_at_local_midnight() -> None:
    assert OPENS == dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("at", "timing"),
    [
        (OPENS - dt.timedelta(seconds=1), "too_early"),
        (OPENS, "on_time"),
        (DAY.plan_deadline, "on_time"),  # at the deadline itself
        (DAY.plan_deadline + dt.timedelta(seconds=1), "late"),
        (DAY.plan_cutoff, "late"),  # the grace's last instant
        (DAY.plan_cutoff + dt.timedelta(seconds=1), "too_late"),
    ],
)
def test_a_plan_is_too_early_on_time_late_or_too_late(at: dt.datetime, timing: str) -> None:
    assert checkins.check_in_timing("plan", at, OPENS, DAY) == timing


def test_a_summary_may_come_early_in_the_day_and_is_late_only_after_its_own_deadline() -> None:
    assert checkins.check_in_timing("summary", local(10), OPENS, DAY) == "on_time"
    assert checkins.check_in_timing("summary", DAY.plan_cutoff + dt.timedelta(hours=1), OPENS, DAY) == "on_time"
    assert checkins.check_in_timing("summary", DAY.summary_cutoff + dt.timedelta(minutes=1), OPENS, DAY) == "too_late"


def test_refusals_say_when_the_day_opens_or_when_the_check_in_closed_in_local_time() -> None:
    early = checkins.timing_refusal("plan", "too_early", "Thursday 3 December", DAY, "Europe/Berlin")
    late = checkins.timing_refusal("plan", "too_late", "Thursday 3 December", DAY, "Europe/Berlin")
    assert early is not None and "Thursday 3 December" in early
    assert (
        late is not None and f"closed at {DAY.plan_cutoff.astimezone(dt.timezone(dt.timedelta(hours=1))):%H:%M}" in late
    )
    assert "recorded as missed" in late and "summary is due by 20:00" in late
    edit = checkins.timing_refusal("plan", "too_late", "Thursday 3 December", DAY, "Europe/Berlin", standing="saved")
    assert edit is not None and "stays as you last saved it" in edit and "missed" not in edit
    assert checkins.timing_refusal("plan", "late", "Thursday 3 December", DAY, "Europe/Berlin") is None


def test_a_plain_reply_is_the_plan_while_it_is_missing_and_open_else_the_summary() -> None:
    assert checkins.next_check_in(False, local(10), DAY) == "plan"
    assert checkins.next_check_in(True, local(10), DAY) == "summary"
    assert checkins.next_check_in(False, DAY.plan_cutoff + dt.timedelta(minutes=1), DAY) == "summary"


def test_only_an_absence_covering_every_working_minute_skips_the_day() -> None:
    assert checkins.skip_for_calendar([], DAY) is None
    assert checkins.skip_for_calendar([away(local(14), local(14, 30))], DAY) is None
    assert checkins.skip_for_calendar([away(local(9), local(17))], DAY) is None  # the last half hour is left
    pieces = [away(local(0), local(13), "Flight"), away(local(13), local(23), "Conference")]
    skip = checkins.skip_for_calendar(pieces, DAY)
    assert skip is not None and skip.kind == "out_of_office" and "Flight, Conference" in skip.reason


def test_a_partial_absence_excuses_the_check_in_whose_deadline_it_covers_and_nothing_else() -> None:
    dentist = [away(local(11), local(13), "Dentist")]
    assert checkins.missed_check_in("plan", DAY, dentist) == "excused"
    assert checkins.missed_check_in("summary", DAY, dentist) == "missed"
    assert checkins.excusing_absence("plan", DAY, dentist) == dentist[0]
    assert checkins.excusing_absence("summary", DAY, dentist) is None


def test_flag_recipients_are_the_manager_then_the_skip_level_on_repeated_misses_then_the_person() -> None:
    assert flag_recipients(POLICY, 1, person_id=3, manager_id=None, managers_manager_id=None) == []
    assert flag_recipients(POLICY, 1, 3, 2, 1) == [FlagReader(2, "manager"), FlagReader(3, "person")]
    escalated = flag_recipients(POLICY, POLICY.escalation.consecutive_misses_to_skip_level, 3, 2, 1)
    assert escalated == [FlagReader(2, "manager"), FlagReader(1, "manager_of_manager"), FlagReader(3, "person")]
    assert flag_recipients(POLICY, 9, 3, 2, None) == [FlagReader(2, "manager"), FlagReader(3, "person")]


def test_a_day_is_missed_for_an_unexcused_miss_or_work_kept_when_completed_else_neither() -> None:
    assert day_status("completed", []) == "kept"
    assert day_status("completed", ["missed_summary"]) == "missed"
    assert day_status("completed", ["used_for_work"]) == "missed"
    assert day_status("completed", ["spillover"]) == "kept"
    assert day_status("skipped", []) is None and day_status(None, []) is None


def test_a_nul_character_in_any_field_of_a_check_in_is_refused_by_name() -> None:
    problems = checkins.check_in_problems(POLICY, "plan", "Raft\x00", None, why="because\x00", resources=None)
    assert set(problems) == {"text", "why"} and "NUL" in problems["text"]
    assert checkins.check_in_problems(POLICY, "plan", "Raft\nand Paxos\ttoo", None) == {}


def test_an_accepted_check_in_is_refused_again_only_once_its_cutoff_is_in_the_history() -> None:
    # The clock read on a replay may say "too late" for a check-in its validator accepted on time.
    assert checkins.timing_once_accepted("too_late", cutoff_passed=False) == "late"
    assert checkins.timing_once_accepted("too_early", cutoff_passed=False) == "on_time"
    assert checkins.timing_once_accepted("on_time", cutoff_passed=False) == "on_time"
    assert checkins.timing_once_accepted("late", cutoff_passed=False) == "late"
    assert checkins.timing_once_accepted("on_time", cutoff_passed=True) == "too_late"


def test_an_accepted_plain_reply_is_the_plan_until_a_plan_exists_or_its_cutoff_is_in_the_history() -> None:
    assert checkins.next_check_in_once_accepted(has_plan=False, plan_cutoff_passed=False) == "plan"
    assert checkins.next_check_in_once_accepted(has_plan=True, plan_cutoff_passed=False) == "summary"
    assert checkins.next_check_in_once_accepted(has_plan=False, plan_cutoff_passed=True) == "summary"
