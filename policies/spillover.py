"""Weekday spillover: learning leaking out of the Learning Day into the other weekdays.

Seed failure mode 2: "no leakage into other weekdays" — the day is protected precisely so that
learning does not eat the rest of the week. Signs, over one week (Monday to Sunday, in the
person's own timezone):
  * learning blocks on other working days (Monday to Friday but the Learning Day): our own hold
    placed on another day, or any event titled with `spillover.learning_keywords`
    ("study", "course", …) that the person did not decline;
  * a plan or summary that says it will carry on (`spillover.continuation_phrases`,
    e.g. "continue tomorrow").
Blocks are tolerated up to `spillover.allowance_minutes_per_week` in total; a stated
continuation is flagged on its own, because it announces the leak rather than measuring it.
Weekends are the person's own time and never count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

from policies.enforcement import Finding, Interval, covered_minutes, is_out_of_office, matched_phrases, subtract
from policies.policy import Policy
from policies.used_for_work import EventLike, event_evidence


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def week_start(date: dt.date) -> dt.date:
    """The Monday of `date`'s week."""
    return date - dt.timedelta(days=date.weekday())


def audit_week_problem(monday: dt.date, today: dt.date) -> str | None:
    """Why the week starting `monday` cannot be audited yet on `today`, or None.

    Spillover is a property of a whole week (learning leaking into its other weekdays), so only
    a week that has ended can be judged: a week still running, or one to come, holds days not yet
    lived, and flags raised on them would be wrong by Sunday.
    """
    current = week_start(today)
    if monday > current:
        return f"the week of {monday:%a %d %b %Y} is in the future (today is {today:%Y-%m-%d})"
    if monday == current:
        return f"the week of {monday:%a %d %b %Y} has not ended yet (it ends on Sunday {monday + dt.timedelta(days=6):%Y-%m-%d})"
    return None


def local_day(date: dt.date, timezone: str) -> Interval:
    """The person's local calendar day as an aware UTC interval (23 or 25 hours on DST days)."""
    zone = _zone(timezone)
    start = dt.datetime.combine(date, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return start, end


def absence_interval(first: dt.date, last: dt.date, timezone: str) -> Interval:
    """An absence recorded in the service, from `first` to `last` (both included), as time away:
    the person's whole local days, so no meeting and no learning block in them counts."""
    return local_day(first, timezone)[0], local_day(last, timezone)[1]


def other_working_days(policy: Policy, monday: dt.date) -> list[dt.date]:
    """Monday to Friday of the week starting `monday`, without the Learning Day."""
    learning = policy.learning_weekday_index
    return [monday + dt.timedelta(days=i) for i in range(5) if i != learning]


def is_learning_block(event: EventLike, policy: Policy) -> bool:
    """Our own hold, or an event titled as learning that the person has not declined."""
    if event.response_status == "declined" or is_out_of_office(event):
        return False
    return event.is_ours or bool(matched_phrases(event.title, policy.spillover.learning_keywords))


def spillover(
    policy: Policy,
    timezone: str,
    monday: dt.date,
    events: Sequence[EventLike],
    check_ins: Sequence[tuple[str, str]] = (),
    away: Sequence[Interval] = (),
) -> Finding | None:
    """The spillover finding for the week starting `monday`, or None when the week was kept.

    `events` are the person's calendar events over the week; `check_ins` are (label, text) of the
    week's plan and summary; `away` are out-of-office intervals (time away is not learning time).
    Exactly the allowance is still kept.
    """
    rules = policy.spillover
    days = [local_day(date, timezone) for date in other_working_days(policy, monday)]
    blocks: list[tuple[EventLike, list[Interval]]] = []
    for event in events:
        if not is_learning_block(event, policy):
            continue
        parts = [
            (max(event.starts_at, start), min(event.ends_at, end))
            for start, end in days
            if event.starts_at < end and event.ends_at > start
        ]
        parts = subtract(parts, away)
        if parts:
            blocks.append((event, parts))
    minutes = covered_minutes(part for _, parts in blocks for part in parts)

    reasons: list[str] = []
    evidence: list[str] = []
    shown: list[dict[str, str]] = []
    if minutes > rules.allowance_minutes_per_week:
        reasons.append(
            f"{minutes:.0f} minutes of learning on other weekdays (allowance {rules.allowance_minutes_per_week} a week)"
        )
        zone = _zone(timezone)
        for event, _ in blocks:
            weekday = event.starts_at.astimezone(zone).strftime("%A")
            what = "Learning Day hold" if event.is_ours else "learning block"
            evidence.append(f"{what[0].upper()}{what[1:]} on {weekday}: {event.title or '(no title)'}")
            shown.append(event_evidence(event, what))
    for label, text in check_ins:
        phrases = matched_phrases(text, rules.continuation_phrases)
        if phrases:
            reasons.append(f"the {label} says learning continues on another day")
            evidence.append(f"In the {label}: {', '.join(repr(p) for p in phrases)}")
    if not reasons:
        return None
    return Finding("spillover", "Weekday spillover: " + "; ".join(reasons) + ".", evidence, shown)
