"""How a Learning Day counts on the pages that count days: the Me and Team pages' history strip,
the streak, and the program's participation rate.

One truth: a day counts as its record says (`policies.enforcement.day_status`, the unexcused
flags the workflow raised), the same on the pages, in the flag emails, in the digest and for
escalation. So a day used for work is missed everywhere, and a check-in excused by an absence
or by a manager is never a miss anywhere. Pure: the web reads the rows and asks these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from policies.enforcement import day_status

Mark = Literal["kept", "missed", "skipped", "open"]

NOT_COUNTED = ("skipped", "cancelled")  # holidays, absences, exceptions: never a miss


def participation_mark(state: str, unexcused_flag_kinds: Iterable[str]) -> Mark:
    """What a Learning Day counts as, on every page that counts days (Team, Me, Program).

    missed: an unexcused missed check-in or used for work (`day_status`), even on a day skipped
    after its plan was missed. kept: completed with nothing unexcused. skipped: a holiday, an
    absence or an exception. open: still running and nothing missed yet."""
    status = day_status(state, unexcused_flag_kinds)
    if status == "missed":
        return "missed"
    if state in NOT_COUNTED:
        return "skipped"
    return "kept" if status == "kept" else "open"


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
