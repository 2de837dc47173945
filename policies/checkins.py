"""Rules for the day's check-ins: when a day is skipped, what a valid check-in is, what is a miss.

Seed: "Please write what you are planning to learn, and please write summaries." A day with no
plan or no summary is the "used for leisure" failure mode; holidays, out-of-office and approved
exceptions are never misses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from policies.holidays import company_holiday
from policies.policy import Policy

MAX_CHECK_IN_CHARS = 3000  # a Slack section's limit: the post must fit in the channel


@dataclass(frozen=True)
class Skip:
    """Why a Learning Day is not held for this person; recorded, never counted as a miss."""

    kind: str  # holiday | absence | out_of_office | requested
    reason: str


def skip_before_start(policy: Policy, date: dt.date, recorded_absence: str | None) -> Skip | None:
    """A company holiday or an exception recorded in the service skips the day outright.

    Rule: "Holidays, personal out-of-office and approved exceptions are not misses."
    Holidays come first so the recorded reason is the one that applies to everybody.
    """
    holiday = company_holiday(policy, date)
    if holiday:
        return Skip("holiday", f"Company holiday: {holiday}")
    if recorded_absence:
        return Skip("absence", f"Exception recorded: {recorded_absence}")
    return None


def skip_for_calendar(out_of_office_title: str | None) -> Skip | None:
    """An out-of-office event on the person's calendar during the day skips it."""
    if out_of_office_title is None:
        return None
    return Skip("out_of_office", f"Out of office on the calendar ({out_of_office_title or 'no title'})")


def check_in_problems(
    policy: Policy, kind: str, text: str, category: str | None
) -> dict[str, str]:
    """What is wrong with a check-in, by field; empty when it can be accepted.

    Rule: the plan names what and why, from the program's list of what counts as learning.
    """
    problems: dict[str, str] = {}
    if kind not in ("plan", "summary"):
        problems["kind"] = f"must be plan or summary, not {kind!r}"
    stripped = text.strip()
    if not stripped:
        problems["text"] = "Write a few words about what you plan to learn." if kind == "plan" else (
            "Write a few words about what you learned."
        )
    elif len(stripped) > MAX_CHECK_IN_CHARS:
        problems["text"] = f"Keep it under {MAX_CHECK_IN_CHARS} characters ({len(stripped)} now)."
    if category is not None and category not in policy.checkins.categories:
        known = ", ".join(policy.checkins.categories)
        problems["category"] = f"Unknown category {category!r}; choose one of: {known}."
    return problems


def is_missed(submitted_at: dt.datetime | None, cutoff: dt.datetime, now: dt.datetime) -> bool:
    """Missed when nothing was submitted by the deadline plus grace (`cutoff`), and only then.

    A check-in that arrives exactly at the cutoff is on time.
    """
    if submitted_at is not None and submitted_at <= cutoff:
        return False
    return now >= cutoff and (submitted_at is None or submitted_at > cutoff)


def is_late(submitted_at: dt.datetime, deadline: dt.datetime) -> bool:
    """After the deadline but within grace: accepted, reported as late, not flagged."""
    return submitted_at > deadline
