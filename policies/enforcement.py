"""What the enforcement rules share: findings with their explanation, time intervals, the
plan-vs-summary comparison, partial-day absences and escalation.

Seed ("How we sustain it"): the program only lasts if it is kept rigorously, so each failure mode
is caught and reported to the manager *with context*. Every rule therefore returns a `Finding`
that says in words why it fired and which facts (words, events, times) made it fire.
Pure: no I/O, safe inside workflows and in a tight benchmark loop.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from policies.policy import Policy

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Finding:
    """One failure mode found for one person: a flag to raise, with its explanation."""

    kind: str  # used_for_work | spillover (missed_plan / missed_summary come from checkins.py)
    reason: str  # one sentence a manager can read
    evidence: list[str] = field(default_factory=list)  # the facts, one per line
    events: list[dict[str, str]] = field(default_factory=list)  # {title, start, end (UTC ISO), why}


# --- intervals -------------------------------------------------------------------------------


def clip(interval: Interval, window: Interval) -> Interval | None:
    """The part of `interval` inside `window`, or None when they do not overlap."""
    start, end = max(interval[0], window[0]), min(interval[1], window[1])
    return (start, end) if start < end else None


def subtract(intervals: Iterable[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """`intervals` with every part covered by `holes` cut out."""
    pieces = list(intervals)
    for hole in holes:
        cut: list[Interval] = []
        for start, end in pieces:
            if end <= hole[0] or start >= hole[1]:
                cut.append((start, end))
                continue
            if start < hole[0]:
                cut.append((start, hole[0]))
            if end > hole[1]:
                cut.append((hole[1], end))
        pieces = cut
    return pieces


def covered_minutes(intervals: Iterable[Interval]) -> float:
    """Minutes covered by the union of `intervals`: two overlapping meetings count once."""
    total = 0.0
    current: Interval | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        elif end > current[1]:
            current = (current[0], end)
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total / 60.0


# --- words -----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of `phrases` as whole words: "deploy" does not
    match "deployment", "bug fix" matches "Bug  fix" (any whitespace between words)."""
    cleaned = sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in cleaned)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


def matched_phrases(text: str | None, phrases: Sequence[str]) -> list[str]:
    """The policy phrases found in `text`, lower-cased, in order of first appearance, once each."""
    pattern = phrase_pattern(tuple(phrases))
    if not text or pattern is None:
        return []
    found: list[str] = []
    for match in pattern.finditer(text):
        word = " ".join(match.group(0).lower().split())
        if word not in found:
            found.append(word)
    return found


# --- plan versus summary ---------------------------------------------------------------------

_STOPWORDS = frozenset(
    """about after again also been before being could didn does doing done from have having into
    just learn learned learning learnt more most much only other over plan planned some than that
    their them then there these they this those through today tomorrow very want were what when
    where which while will with would your read reading study studied studying work worked""".split()
)
_WORD = re.compile(r"[a-z][a-z0-9+#]*")


@dataclass(frozen=True)
class Followed:
    """Whether the summary followed the plan; reported to the manager, never flagged alone."""

    followed: bool
    overlap: list[str]


def content_words(text: str) -> set[str]:
    """Topic words of a check-in: lower-case, 4+ letters, no stop words, a crude stem (plural
    "s", "ed", "ing" dropped) so "implemented" meets "implement"."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if len(word) < 4 or word in _STOPWORDS:
            continue
        for suffix in ("ing", "ed"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        words.add(word[:-1] if word.endswith("s") and not word.endswith("ss") else word)
    return words


def summary_followed_plan(plan: str | None, summary: str | None) -> Followed:
    """Rule: "compare the plan with the summary" (PRODUCT.md). The summary follows the plan
    when it shares at least two topic words with it (one when the plan names only one)."""
    if not plan or not summary:
        return Followed(False, [])
    planned = content_words(plan)
    overlap = sorted(planned & content_words(summary))
    return Followed(bool(planned) and len(overlap) >= min(2, len(planned)), overlap)


# --- absences within the day -----------------------------------------------------------------


class CalendarEntry(Protocol):
    """What the absence rule reads from a calendar event (activities.calendar.port.CalendarEvent
    fits); read-only, so frozen dataclasses fit too."""

    @property
    def event_type(self) -> str: ...

    @property
    def starts_at(self) -> dt.datetime: ...

    @property
    def ends_at(self) -> dt.datetime: ...


def is_out_of_office(event: CalendarEntry) -> bool:
    """Whether a calendar event says the person is away: only the calendar's own out-of-office
    kind does. A busy block titled "Doctor", a declined meeting or a focus block is not an
    absence: it excuses no check-in, skips no day and hides no meeting."""
    return event.event_type == "outOfOffice"


def away_intervals(events: Iterable[CalendarEntry]) -> list[Interval]:
    """The out-of-office events among `events`, as intervals (`is_out_of_office`)."""
    return [(event.starts_at, event.ends_at) for event in events if is_out_of_office(event)]


def away_at(moment: dt.datetime, away: Sequence[Interval]) -> bool:
    """True when `moment` falls inside an out-of-office interval (start inclusive, end exclusive)."""
    return any(start <= moment < end for start, end in away)


def check_in_missed(
    submitted_at: dt.datetime | None,
    deadline: dt.datetime,
    grace: dt.timedelta,
    now: dt.datetime,
    away: Sequence[Interval] = (),
) -> bool:
    """Used for leisure: no check-in by the deadline plus grace.

    A *partial-day absence* is an out-of-office interval covering only part of the day (a
    morning at the doctor's). It excuses a check-in whose deadline falls inside it (you cannot
    write a plan at noon from the dentist's chair), and nothing else: an absence in the morning
    does not excuse a missing summary in the evening. A whole-day absence skips the day earlier,
    in `checkins.skip_before_start` / `skip_for_calendar`.
    """
    cutoff = deadline + grace
    if submitted_at is not None and submitted_at <= cutoff:
        return False
    if now < cutoff:
        return False
    return not away_at(deadline, away)


# --- escalation ------------------------------------------------------------------------------


def consecutive_misses(history: Sequence[str | None]) -> int:
    """Misses in a row at the end of `history` (oldest first: "kept", "missed", or None for a
    skipped day — a holiday or absence neither counts nor breaks the run)."""
    run = 0
    for status in reversed(history):
        if status is None:
            continue
        if status != "missed":
            break
        run += 1
    return run


def escalation_recipients(consecutive: int, policy: Policy) -> list[str]:
    """Who hears about a flag: always the manager; the manager's manager once the person has
    missed `escalation.consecutive_misses_to_skip_level` Learning Days in a row; the person too
    when `escalation.notify_person`. Seed: keep it rigorous, and tell people with context."""
    levels = ["manager"]
    if consecutive >= policy.escalation.consecutive_misses_to_skip_level:
        levels.append("manager_of_manager")
    if policy.escalation.notify_person:
        levels.append("person")
    return levels


@dataclass(frozen=True)
class FlagReader:
    """Someone who hears about a flag, and in which capacity (what their email says)."""

    person_id: int
    level: str  # manager | manager_of_manager | person


def flag_recipients(
    policy: Policy, missed_in_a_row: int, person_id: int, manager_id: int | None, managers_manager_id: int | None
) -> list[FlagReader]:
    """Who is told about one flag, in order (`escalation_recipients` applied to real people).

    Nobody when the person has no manager: a flag is a message to a manager, and the person is
    told only alongside them. The manager's manager only when there is one.
    """
    if manager_id is None:
        return []
    levels = escalation_recipients(missed_in_a_row, policy)
    readers = [FlagReader(manager_id, "manager")]
    if "manager_of_manager" in levels and managers_manager_id is not None:
        readers.append(FlagReader(managers_manager_id, "manager_of_manager"))
    if "person" in levels:
        readers.append(FlagReader(person_id, "person"))
    return readers


def day_flag_recipients(
    policy: Policy,
    missed_in_a_row: Sequence[int],
    person_id: int,
    manager_id: int | None,
    managers_manager_id: int | None,
) -> list[FlagReader]:
    """Who is told about one Learning Day's flags, in one email each: `flag_recipients` on the
    longest run of misses any of the day's flags counted, so a day that escalates by one of its
    flags escalates its one email."""
    return flag_recipients(policy, max(missed_in_a_row, default=0), person_id, manager_id, managers_manager_id)


def reads_as_manager(level: str) -> bool:
    """Whether a flag's reader at `level` reads it as a manager (the manager, or the manager's
    manager once it escalates): they get the excuse links and the Slack DMs; the person is told
    for information only."""
    return level != "person"


def may_excuse(reader_id: int, manager_id: int | None, managers_manager_id: int | None) -> bool:
    """Whether `reader_id` may excuse a flag on someone whose manager is `manager_id`: the
    manager, or the manager's manager (who receives the escalations). Nobody else, ever."""
    return reader_id in {manager_id, managers_manager_id} - {None}


def was_held(state: str) -> bool:
    """Whether a Learning Day took place, so that its calendar and check-ins can be judged: any
    day but one still scheduled (never started), skipped (a holiday, an absence, an exception)
    or cancelled."""
    return state not in ("scheduled", "skipped", "cancelled")


MISSING_FLAGS = frozenset({"missed_plan", "missed_summary", "used_for_work"})


def day_status(state: str | None, unexcused_flag_kinds: Iterable[str]) -> str | None:
    """How a Learning Day counts in a person's record: "missed" (a missed check-in or a day used
    for work, not excused), "kept" (completed), or None (skipped, not held, not over yet).

    Seed: the failure modes "used for leisure" and "used for work" are what a manager hears
    about; a holiday or an absence is neither kept nor missed."""
    if any(kind in MISSING_FLAGS for kind in unexcused_flag_kinds):
        return "missed"
    return "kept" if state == "completed" else None


def history_mark(status: str | None, spillover_that_week: bool) -> str | None:
    """A Learning Day's cell in a flag email's eight-week strip: its `day_status`, or "spillover"
    when the week it belongs to has a spillover flag and the day itself was not missed."""
    return "spillover" if spillover_that_week and status != "missed" else status


def spilled_onto(events: Sequence[dict[str, str]], timezone: str) -> list[dt.date]:
    """The local days a spillover flag's stored events fall on, in order, once each."""
    zone = ZoneInfo(timezone)
    return sorted({dt.datetime.fromisoformat(e["start"]).astimezone(zone).date() for e in events if e.get("start")})


def digest_mark(state: str | None, unexcused_flag_kinds: Iterable[str], spilled_onto_day: bool) -> str | None:
    """A weekday's cell in a manager's weekly digest: a Learning Day's `day_status` (`state` is
    None on a day that held none); a day without one shows "spillover" when the week's learning
    spilled onto it, and nothing otherwise."""
    if state is not None:
        return day_status(state, unexcused_flag_kinds)
    return "spillover" if spilled_onto_day else None


def flag_days(kind: str, date: dt.date, events: Sequence[dict[str, str]], timezone: str) -> str:
    """The day or days a flag is about, as its email's subject names them ("Tue 01 Dec").

    A Learning Day's flags are about their day. A spillover flag is stored on its week's Monday
    (one per week), but it is about the days the learning spilled onto: the local days of its
    events, or "week of Mon 30 Nov" when only a check-in's words made it fire.
    """
    if kind != "spillover":
        return f"{date:%a %d %b}"
    days = spilled_onto(events, timezone)
    if not days:
        return f"week of {date:%a %d %b}"
    return ", ".join(f"{day:%a %d %b}" for day in days)
