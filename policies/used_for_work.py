"""Used for work: the Learning Day turned into an ordinary working day.

Seed failure mode 1: "the day turns into a normal working day". Two signs, either enough:
  * meetings the person accepted or organised over the hold beyond
    `used_for_work.meeting_allowance_minutes` (a quick sync is tolerated, a day of meetings is not);
  * a plan or summary that is ordinary project work: `used_for_work.work_keywords` in its text,
    or a plan filed under one of `used_for_work.work_categories`.
The finding names the words and the meetings that triggered it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from policies.enforcement import Finding, Interval, clip, covered_minutes, matched_phrases, subtract
from policies.policy import Policy


class EventLike(Protocol):
    """What the rules read from a calendar event (learningday.contracts.calendar.CalendarEvent fits).

    Read-only properties: the rules never set them, and a frozen dataclass's fields are read-only."""

    @property
    def title(self) -> str: ...

    @property
    def starts_at(self) -> dt.datetime: ...

    @property
    def ends_at(self) -> dt.datetime: ...

    @property
    def event_type(self) -> str: ...

    @property
    def organizer_self(self) -> bool: ...

    @property
    def response_status(self) -> str | None: ...

    @property
    def attendee_count(self) -> int: ...

    @property
    def transparency(self) -> str: ...

    @property
    def is_ours(self) -> bool: ...


def is_work_meeting(event: EventLike, policy: Policy) -> bool:
    """An ordinary meeting the person committed to: a normal (not focus/out-of-office) busy
    event with other people, that they organised or accepted, not itself about learning.
    Tentative, unanswered and declined invitations are not commitments."""
    if event.is_ours or event.event_type != "default" or event.transparency == "transparent":
        return False
    if event.attendee_count < 2:
        return False  # a block on one's own calendar is not a meeting
    committed = event.organizer_self or event.response_status == "accepted"
    if not committed or event.response_status == "declined":
        return False
    return not matched_phrases(event.title, policy.spillover.learning_keywords)


def event_evidence(event: EventLike, why: str) -> dict[str, str]:
    """An event as stored in a flag's evidence: times as UTC ISO strings, shown to the manager
    in their own timezone by the email."""
    return {
        "title": event.title,
        "start": event.starts_at.astimezone(dt.UTC).isoformat(),
        "end": event.ends_at.astimezone(dt.UTC).isoformat(),
        "why": why,
    }


def used_for_work(
    policy: Policy,
    hold: Interval,
    events: Sequence[EventLike],
    plan: str | None = None,
    summary: str | None = None,
    plan_category: str | None = None,
    away: Sequence[Interval] = (),
) -> Finding | None:
    """The used-for-work finding for one Learning Day, or None when the day was kept.

    `hold` is the Learning Day window (aware datetimes); `away` are out-of-office intervals
    that day (meetings during a partial-day absence are not counted: the person was not there
    for their Learning Day either). Meeting minutes are the union of the meetings' overlap with
    the hold, so two double-booked meetings count once; exactly the allowance is still kept.
    """
    rules = policy.used_for_work
    evidence: list[str] = []
    shown: list[dict[str, str]] = []
    reasons: list[str] = []

    meetings: list[tuple[EventLike, Interval]] = []
    for event in events:
        if not is_work_meeting(event, policy):
            continue
        part = clip((event.starts_at, event.ends_at), hold)
        if part is not None and subtract([part], away):
            meetings.append((event, part))
    minutes = covered_minutes(piece for _, part in meetings for piece in subtract([part], away))
    if minutes > rules.meeting_allowance_minutes:
        reasons.append(
            f"{minutes:.0f} minutes of meetings over the Learning Day hold"
            f" (allowance {rules.meeting_allowance_minutes})"
        )
        for event, _ in meetings:
            role = "organised" if event.organizer_self else "accepted"
            evidence.append(f"Meeting {role}: {event.title or '(no title)'} ({event.attendee_count} attendees)")
            shown.append(event_evidence(event, f"meeting {role}"))

    for label, text in (("plan", plan), ("summary", summary)):
        words = matched_phrases(text, rules.work_keywords)
        if words:
            reasons.append(f"the {label} reads as project work")
            evidence.append(f"Work words in the {label}: {', '.join(words)}")
    if plan_category and plan_category in rules.work_categories:
        reasons.append("the plan is filed under a work category")
        evidence.append(f"Plan category: {plan_category}")

    if not reasons:
        return None
    reason = "Learning Day used for work: " + "; ".join(reasons) + "."
    return Finding("used_for_work", reason, evidence, shown)
