"""How a Learning Day counts on the pages that count days, and how long a streak is."""

from __future__ import annotations

import pytest

from policies.checkins import check_in_due
from policies.enforcement import day_status
from policies.participation import kept_in_a_row, participation_mark


@pytest.mark.parametrize(
    ("state", "plan", "summary", "flagged", "mark"),
    [
        ("completed", True, True, False, "kept"),
        ("summarising", True, True, False, "kept"),  # both written: kept before the day is over
        ("completed", True, False, False, "missed"),  # over without both
        ("learning", False, False, True, "missed"),  # the plan's miss is flagged: missed already
        ("learning", True, False, False, "open"),
        ("scheduled", False, False, False, "open"),
        ("skipped", False, False, True, "skipped"),  # skipped after a missed plan: never a miss here
        ("cancelled", True, True, False, "skipped"),
    ],
)
def test_a_day_is_kept_with_both_check_ins_missed_when_flagged_or_over_without(
    state: str, plan: bool, summary: bool, flagged: bool, mark: str
) -> None:
    assert participation_mark(state, plan, summary, flagged) == mark


def test_participation_and_the_flag_emails_record_count_a_day_used_for_work_differently() -> None:
    # Pinned as it stands: the pages count check-ins, the flag emails and the digest count flags.
    assert participation_mark("completed", True, True, flagged=True) == "kept"
    assert day_status("completed", ["used_for_work"]) == "missed"


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
