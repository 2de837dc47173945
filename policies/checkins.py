"""Rules for the day's check-ins: when a day is skipped, what a valid check-in is, what is a miss.

Seed: "Please write what you are planning to learn, and please write summaries." A day with no
plan or no summary is the "used for leisure" failure mode; holidays, out-of-office and approved
exceptions are never misses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from policies.enforcement import away_at, check_in_missed, subtract
from policies.holidays import company_holiday
from policies.policy import Policy
from policies.schedule import DayInstants

MAX_CHECK_IN_CHARS = 3000  # a Slack section's limit: the post must fit in the channel
# A day in one of these states is over: it takes no check-in, no skip and no policy refresh, and
# no page offers one. The workflow, the gateway, the pages and the CLI all ask this one set.
CLOSED_STATES = frozenset({"completed", "skipped", "cancelled"})

CheckInTiming = Literal["too_early", "on_time", "late", "too_late"]
Standing = Literal["saved", "missed", "excused"]


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


@dataclass(frozen=True)
class OutOfOffice:
    """An out-of-office event on the person's calendar, clipped to nothing: as the calendar has it."""

    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime


def skip_for_calendar(away: Sequence[OutOfOffice], day: DayInstants) -> Skip | None:
    """Out of office for the whole working day skips it; a shorter absence does not.

    Rule: "personal out-of-office [is] not a miss". A *whole-day* absence covers every minute of
    the policy's working hours (day_start to day_end, in the person's zone), alone or with other
    out-of-office events; then there is no day to hold and nothing to ask. Anything shorter (a
    morning at the doctor's, a 30-minute errand) is a *partial* absence: the day is held and
    prompted as usual, and the absence excuses only the check-in whose deadline it covers
    (`missed_check_in`).
    """
    intervals = [(event.starts_at, event.ends_at) for event in away]
    if not away or subtract([(day.day_start, day.day_end)], intervals):
        return None
    titles = ", ".join(dict.fromkeys(event.title or "no title" for event in away))
    return Skip("out_of_office", f"Out of office on the calendar ({titles})")


def missed_check_in(kind: str, day: DayInstants, away: Sequence[OutOfOffice]) -> Literal["missed", "excused"]:
    """What an unanswered check-in is at its cutoff: a miss to flag, or excused by an absence.

    Rule (policies.enforcement.check_in_missed): a partial absence excuses the check-in whose
    deadline falls inside it, and nothing else. `day` holds the day's real (uncompressed) times.
    """
    deadline, cutoff = (
        (day.plan_deadline, day.plan_cutoff) if kind == "plan" else (day.summary_deadline, day.summary_cutoff)
    )
    intervals = [(event.starts_at, event.ends_at) for event in away]
    return "missed" if check_in_missed(None, deadline, cutoff - deadline, cutoff, intervals) else "excused"


def excusing_absence(kind: str, day: DayInstants, away: Sequence[OutOfOffice]) -> OutOfOffice | None:
    """The out-of-office event that covers the check-in's deadline, if any (for the record)."""
    deadline = day.plan_deadline if kind == "plan" else day.summary_deadline
    return next((event for event in away if away_at(deadline, [(event.starts_at, event.ends_at)])), None)


def day_opens(date: dt.date, timezone: str) -> dt.datetime:
    """The first instant of the Learning Day's date in the person's zone, in UTC."""
    return dt.datetime.combine(date, dt.time(), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def check_in_timing(kind: str, at: dt.datetime, opens_at: dt.datetime, day: DayInstants) -> CheckInTiming:
    """When a check-in arrives relative to its Learning Day, and so what becomes of it.

    - too early: before the day starts in the person's zone (a plan written on Sunday belongs to
      no Learning Day yet): refused, saying when it opens;
    - on time: up to the deadline (a check-in at the deadline itself is on time);
    - late: after the deadline, up to the deadline plus grace: accepted and shared, reported as
      late to the person, never flagged;
    - too late: after the deadline plus grace. The miss is already recorded (the manager hears of
      it with the day's other flags at its end), so the check-in is refused with a clear message
      rather than accepted beside a standing flag: one truth about the day. (The summary's cutoff ends the day: nothing arrives after.)
    """
    deadline, cutoff = (
        (day.plan_deadline, day.plan_cutoff) if kind == "plan" else (day.summary_deadline, day.summary_cutoff)
    )
    if at < opens_at:
        return "too_early"
    if at <= deadline:
        return "on_time"
    if at <= cutoff:
        return "late"
    return "too_late"


def next_check_in(has_plan: bool, at: dt.datetime, day: DayInstants) -> Literal["plan", "summary"]:
    """Which check-in a plain reply is ("reply to my DM: the first is your plan, the next your
    summary"): the plan while it is missing and still open, otherwise the summary."""
    return "plan" if not has_plan and at <= day.plan_cutoff else "summary"


def check_in_due(day_open: bool, has_plan: bool, has_summary: bool) -> Literal["plan", "summary"] | None:
    """The check-in a person is asked for where they look (the Me page, the Slack Home tab,
    `/learning status`): the plan until there is one, then the summary; nothing when no day is
    open (none, or it is over) or both are written. The day's times are not read here: a late or
    too-late answer is the workflow's to judge (`check_in_timing`)."""
    if not day_open:
        return None
    if not has_plan:
        return "plan"
    return None if has_summary else "summary"


# Once a check-in is accepted. A workflow judges a check-in twice: its update's validator reads the
# clock when the check-in arrives, and runs only then; its handler runs then and again on every
# replay, where the task's clock can read seconds apart from the first run (after a local activity
# that outlived its workflow task). A handler that refused by the clock did so on a replay after a
# first run that had accepted, and the day could never be replayed again (seen in the demo under
# load: "Update machine does not handle this event: ActivityTaskScheduled"). So the handler
# decides only by what the history holds: a cutoff whose timer fired, a plan already written.


def timing_on_arrival(clock: CheckInTiming, cutoff_passed: bool) -> CheckInTiming:
    """The timing of a check-in as it arrives (the update's validator): the clock's, but too late
    once its cutoff has been recorded as passed, whatever the clock says: the miss (or the
    excuse) is recorded by then, and the day keeps one truth about it."""
    return "too_late" if cutoff_passed else clock


def standing_after_cutoff(submitted: bool, excused: bool) -> Standing:
    """What the day holds for a check-in whose cutoff has passed (`timing_refusal` says it): the
    one saved before, else the excuse a partial absence gave, else the recorded miss."""
    if submitted:
        return "saved"
    return "excused" if excused else "missed"


def timing_once_accepted(clock: CheckInTiming, cutoff_passed: bool) -> CheckInTiming:
    """The timing of a check-in its validator accepted: too late only when the cutoff has been
    recorded as passed; otherwise the clock only says whether to call it late."""
    if cutoff_passed:
        return "too_late"
    return "late" if clock in ("late", "too_late") else "on_time"


def next_check_in_once_accepted(has_plan: bool, plan_cutoff_passed: bool) -> Literal["plan", "summary"]:
    """`next_check_in` for a reply its validator accepted: the plan while it is missing and its
    cutoff has not been recorded as passed, otherwise the summary."""
    return "plan" if not has_plan and not plan_cutoff_passed else "summary"


def timing_refusal(
    kind: str,
    timing: CheckInTiming,
    day_label: str,
    day: DayInstants,
    timezone: str,
    standing: Standing = "missed",
) -> str | None:
    """What the person is told when a check-in is refused for its timing; None when accepted.

    `standing` is what the day already holds for this check-in after its cutoff: an earlier one
    that stays as saved, a recorded miss, or one excused by an absence.
    """
    local = ZoneInfo(timezone)
    if timing == "too_early":
        return f"Your next Learning Day is {day_label}: its {kind} opens that day. Nothing was saved."
    if timing != "too_late":
        return None
    cutoff = day.plan_cutoff if kind == "plan" else day.summary_cutoff
    stands = {
        "saved": f"your {kind} stays as you last saved it",
        "missed": "it was recorded as missed",
        "excused": "it was excused (out of office)",
    }[standing]
    message = f"The {kind} for {day_label} closed at {cutoff.astimezone(local):%H:%M} (deadline plus grace) and {stands}, so this one was not saved."
    if kind == "plan":
        message += f" Your summary is due by {day.summary_deadline.astimezone(local):%H:%M}."
    return message


def shared_in_channel(policy: Policy, kind: str) -> bool:
    """Whether an accepted check-in of `kind` is posted to the program's channel (plans and
    summaries are shared "to motivate others"), each kind by its own switch in the policy."""
    return policy.channel.post_plans if kind == "plan" else policy.channel.post_summaries


def check_in_problems(
    policy: Policy, kind: str, text: str, category: str | None, why: str | None = None, resources: str | None = None
) -> dict[str, str]:
    """What is wrong with a check-in, by field; empty when it can be accepted.

    Rule: the plan names what and why, from the program's list of what counts as learning. Any
    text is welcome but a NUL character, which no database we run on can store.
    """
    problems: dict[str, str] = {}
    for name, value in (("text", text), ("why", why), ("resources", resources)):
        if value is not None and "\x00" in value:
            problems[name] = "Remove the NUL character (\\0): it cannot be stored."
    if kind not in ("plan", "summary"):
        problems["kind"] = f"must be plan or summary, not {kind!r}"
    stripped = text.strip()
    if not stripped:
        problems.setdefault(
            "text",
            "Write a few words about what you plan to learn."
            if kind == "plan"
            else ("Write a few words about what you learned."),
        )
    elif len(stripped) > MAX_CHECK_IN_CHARS:
        problems.setdefault("text", f"Keep it under {MAX_CHECK_IN_CHARS} characters ({len(stripped)} now).")
    if category is not None and category not in policy.checkins.categories:
        known = ", ".join(policy.checkins.categories)
        problems["category"] = f"Unknown category {category!r}; choose one of: {known}."
    return problems
