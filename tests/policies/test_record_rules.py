"""How Learning Days count in a person's record: for escalation, in a flag email's strip, in the digest."""

from __future__ import annotations

import datetime as dt

from policies.enforcement import (
    consecutive_misses,
    day_status,
    digest_mark,
    history_mark,
    spilled_onto,
    was_held,
)


def test_escalation_counts_the_days_the_record_counts_as_missed() -> None:
    assert day_status("completed", ["missed_plan"]) == "missed"
    assert day_status("skipped", ["missed_summary"]) == "missed"  # skipped after a missed plan
    assert day_status("completed", ["used_for_work", "spillover"]) == "missed"  # a failure mode too
    assert day_status("completed", ["spillover"]) == "kept"
    assert day_status("skipped", []) is None and day_status("learning", []) is None


def test_a_run_of_missed_days_is_broken_by_a_kept_day_but_not_by_a_skipped_one() -> None:
    days = [
        ("completed", ["missed_plan"]),
        ("completed", []),  # kept: the run starts again
        ("completed", ["missed_summary"]),
        ("skipped", []),  # a holiday neither counts nor breaks
        ("completed", ["used_for_work"]),  # used for work: one more missed Learning Day
        ("completed", ["missed_plan", "missed_summary"]),
    ]
    assert consecutive_misses([day_status(state, kinds) for state, kinds in days]) == 3


def test_a_week_with_spillover_marks_its_learning_day_unless_the_day_was_missed() -> None:
    assert history_mark("kept", spillover_that_week=True) == "spillover"
    assert history_mark(None, spillover_that_week=True) == "spillover"
    assert history_mark("missed", spillover_that_week=True) == "missed"
    assert history_mark("kept", spillover_that_week=False) == "kept"
    assert history_mark(None, spillover_that_week=False) is None


def test_a_spillover_flag_is_about_the_local_days_of_its_events() -> None:
    events = [
        {"title": "Course", "start": "2026-12-01T23:30:00+00:00", "end": "2026-12-02T01:00:00+00:00"},
        {"title": "Study", "start": "2026-12-01T08:00:00+00:00", "end": "2026-12-01T09:00:00+00:00"},
        {"title": "Study again", "start": "2026-12-01T10:00:00+00:00", "end": "2026-12-01T11:00:00+00:00"},
        {"title": "no time"},
    ]
    # 23:30 UTC on Tuesday is already Wednesday in Berlin; each day is named once.
    assert spilled_onto(events, "Europe/Berlin") == [dt.date(2026, 12, 1), dt.date(2026, 12, 2)]
    assert spilled_onto(events, "UTC") == [dt.date(2026, 12, 1)]
    assert spilled_onto([], "UTC") == []


def test_a_digest_cell_is_the_days_status_or_spillover_on_a_day_without_a_learning_day() -> None:
    assert digest_mark("completed", ["used_for_work"], spilled_onto_day=False) == "missed"
    assert digest_mark("completed", [], spilled_onto_day=True) == "kept"  # the Learning Day itself
    assert digest_mark(None, [], spilled_onto_day=True) == "spillover"
    assert digest_mark(None, [], spilled_onto_day=False) is None


def test_a_day_is_judged_once_it_took_place_whether_or_not_it_is_over() -> None:
    for state in ("held", "planning", "learning", "summarising", "completed"):
        assert was_held(state), state
    for state in ("scheduled", "skipped", "cancelled"):
        assert not was_held(state), state
