"""How a Learning Day counts on the pages that count days: the Me and Team pages' history strip,
the streak, and the program's participation rate.

Participation asks "did the person write both check-ins?", so a day is kept with a plan and a
summary. This is not the record the flag emails and the digest show
(`policies.enforcement.day_status`, which follows the unexcused flags: a day used for work is
missed there, a check-in excused by an absence is not); both are kept as they are until the
program decides that the two should agree.
Pure: the web reads the rows and asks these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Mark = Literal["kept", "missed", "skipped", "open"]

NOT_COUNTED = ("skipped", "cancelled")  # holidays, absences, exceptions: never a miss


def participation_mark(state: str, has_plan: bool, has_summary: bool, flagged: bool) -> Mark:
    """What a Learning Day counts as, on every page that counts days (Team, Me, Program).

    kept: a plan and a summary. missed: flagged, or over without both. skipped: a holiday, an
    absence or an exception, never a miss. open: still running and nothing missed yet."""
    if state in NOT_COUNTED:
        return "skipped"
    if has_plan and has_summary:
        return "kept"
    if flagged or state == "completed":
        return "missed"
    return "open"


def kept_in_a_row(marks_newest_first: Iterable[str]) -> int:
    """The streak: Learning Days kept in a row, newest first, up to the last miss. Skipped days
    do not break it, and an open day (still running) neither counts nor breaks it."""
    count = 0
    for mark in marks_newest_first:
        if mark == "kept":
            count += 1
        elif mark == "missed":
            break
    return count
