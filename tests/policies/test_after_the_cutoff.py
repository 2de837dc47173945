"""A check-in once accepted or refused: too late after its recorded cutoff, what the day holds, whether it is shared."""

from __future__ import annotations

import pytest

from policies import checkins
from policies.policy import Policy


@pytest.mark.parametrize("clock", ["too_early", "on_time", "late", "too_late"])
def test_a_check_in_arriving_after_its_recorded_cutoff_is_too_late_whatever_the_clock_says(clock: str) -> None:
    assert checkins.timing_on_arrival(clock, cutoff_passed=True) == "too_late"  # type: ignore[arg-type]
    assert checkins.timing_on_arrival(clock, cutoff_passed=False) == clock  # type: ignore[arg-type]


def test_what_stands_after_the_cutoff_is_the_saved_check_in_else_the_excuse_else_the_miss() -> None:
    assert checkins.standing_after_cutoff(submitted=True, excused=False) == "saved"
    assert checkins.standing_after_cutoff(submitted=False, excused=True) == "excused"
    assert checkins.standing_after_cutoff(submitted=False, excused=False) == "missed"


def test_plans_and_summaries_are_shared_each_by_its_own_switch() -> None:
    quiet_plans = Policy.model_validate({"channel": {"post_plans": False, "post_summaries": True}})
    assert not checkins.shared_in_channel(quiet_plans, "plan")
    assert checkins.shared_in_channel(quiet_plans, "summary")
    assert checkins.shared_in_channel(Policy(), "plan") and checkins.shared_in_channel(Policy(), "summary")
