"""How a Learning Day counts on the pages that count days, and how long a streak is."""

from __future__ import annotations

import pytest

from policies.checkins import check_in_due
from policies.enforcement import day_status
from policies.participation import kept_in_a_row, participation_mark


@pytest.mark.parametrize(
    ("state", "unexcused_flags", "mark"),
    [
        ("completed", [], "kept"),
        ("completed", ["missed_summary"], "missed"),
        ("completed", ["used_for_work"], "missed"),  # a failure mode, as the flag emails say
        ("completed", ["spillover"], "kept"),  # spillover is the week's, not the day's
        ("learning", ["missed_plan"], "missed"),  # the plan's miss is recorded: missed already
        ("learning", [], "open"),
        ("scheduled", [], "open"),
        ("skipped", ["missed_plan"], "missed"),  # skipped after a missed plan: the miss stands
        ("skipped", [], "skipped"),
        ("cancelled", [], "skipped"),
    ],
)
def test_a_day_counts_as_its_unexcused_flags_say(state: str, unexcused_flags: list[str], mark: str) -> None:
    assert participation_mark(state, unexcused_flags) == mark


def test_the_pages_and_the_flag_emails_count_every_day_alike() -> None:
    """One truth: the pages' mark is the record's `day_status` wherever the record has one."""
    for state in ("completed", "skipped", "cancelled", "learning", "summarising", "scheduled"):
        for flags in ([], ["missed_plan"], ["used_for_work"], ["spillover"], ["missed_plan", "missed_summary"]):
            status = day_status(state, flags)
            if status is not None:
                assert participation_mark(state, flags) == status, (state, flags)


def test_an_excused_check_in_is_not_a_miss() -> None:
    """A summary excused by an absence or by the manager leaves no unexcused flag: a kept day."""
    assert participation_mark("completed", unexcused_flag_kinds=[]) == "kept"


def test_the_streak_counts_kept_days_back_to_the_last_miss_past_skipped_and_open_ones() -> None:
    assert kept_in_a_row(["open", "kept", "skipped", "kept", "missed", "kept"]) == 2
    assert kept_in_a_row(["missed", "kept"]) == 0
    assert kept_in_a_row([]) == 0


def test_a_page_asks_for_the_plan_until_there_is_one_then_the_summary_while_the_day_is_open() -> None:
    assert check_in_due(day_open=True, has_plan=False, has_summary=False) == "plan"
    assert check_in_due(day_open=True, has_plan=False, has_summary=True) == "plan"  # a summary first, via Slack
    assert check_in_due(day_open=True, has_plan=True, has_summary=False) == "summary"
    assert check_in_due(day_open=True, has_plan=True, has_summary=True) is None
    assert check_in_due(day_open=False, has_plan=False, has_summary=False) is None
