"""A check-in arriving once its cutoff is recorded as passed: refused, saying what the day holds."""

from __future__ import annotations

import pytest

from policies import checkins


@pytest.mark.parametrize("clock", ["too_early", "on_time", "late", "too_late"])
def test_a_check_in_arriving_after_its_recorded_cutoff_is_too_late_whatever_the_clock_says(clock: str) -> None:
    assert checkins.timing_on_arrival(clock, cutoff_passed=True) == "too_late"  # type: ignore[arg-type]
    assert checkins.timing_on_arrival(clock, cutoff_passed=False) == clock  # type: ignore[arg-type]


def test_what_stands_after_the_cutoff_is_the_saved_check_in_else_the_excuse_else_the_miss() -> None:
    assert checkins.standing_after_cutoff(submitted=True, excused=False) == "saved"
    assert checkins.standing_after_cutoff(submitted=False, excused=True) == "excused"
    assert checkins.standing_after_cutoff(submitted=False, excused=False) == "missed"
