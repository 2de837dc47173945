"""A flag's email names the days the flag is about, in the learner's timezone."""

from __future__ import annotations

import datetime as dt

from policies.enforcement import flag_days

MONDAY = dt.date(2026, 11, 30)


def test_a_learning_day_flag_names_its_day() -> None:
    assert flag_days("missed_plan", dt.date(2026, 12, 3), [], "Europe/Berlin") == "Thu 03 Dec"


def test_spillover_names_each_local_day_it_spilled_onto_once_not_the_weeks_monday() -> None:
    spilled = [
        {"start": "2026-12-01T23:30:00+00:00"},  # Wednesday already, in Berlin
        {"start": "2026-12-03T08:00:00+00:00"},
        {"start": "2026-12-01T09:00:00+00:00"},
    ]
    assert flag_days("spillover", MONDAY, spilled, "Europe/Berlin") == "Tue 01 Dec, Wed 02 Dec, Thu 03 Dec"


def test_spillover_found_only_in_words_names_its_week() -> None:
    assert flag_days("spillover", MONDAY, [], "Europe/Berlin") == "week of Mon 30 Nov"
