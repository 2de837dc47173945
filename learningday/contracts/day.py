"""One Learning Day's payloads: the workflow's input, updates and status, and what its
database activities take and return (the day's context, state changes, check-ins, flags)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from policies.policy import Policy
from policies.schedule import DayInstants

# The name the Learning Day workflow is registered and started under (workflows/learning_day.py).
LEARNING_DAY_WORKFLOW = "LearningDayWorkflow"


def workflow_id_for(person_id: int, date: dt.date) -> str:
    return f"learning-day-{person_id}-{date.isoformat()}"


def channel_post_key(workflow_id: str, kind: str) -> str:
    """A day's channel post's idempotency key; the web's channel page threads posts by it."""
    return f"channel:{workflow_id}:{kind}"


@dataclass(frozen=True)
class LearningDayInput:
    person_id: int
    date: dt.date
    # >1 runs the day faster (demo, tests): 540 turns 09:00–18:00 into a minute.
    time_scale: float = 1.0


@dataclass(frozen=True)
class CheckInUpdate:
    kind: str  # plan | summary | next (a plain reply: whichever check-in is open now)
    text: str
    source: str
    why: str | None = None
    category: str | None = None
    resources: str | None = None
    # The front door's idempotency key, also the update id: a redelivery answers like the first.
    key: str | None = None


@dataclass(frozen=True)
class CheckInAccepted:
    kind: str
    edited: bool
    late: bool


@dataclass(frozen=True)
class SkipRequest:
    reason: str
    key: str | None = None


@dataclass
class DayView:
    """What `status` shows: enough for the web page, Slack `/learning status` and tests."""

    state: str = "scheduled"
    date: dt.date | None = None
    skip_reason: str | None = None
    plan: str | None = None
    summary: str | None = None
    plan_at: dt.datetime | None = None
    summary_at: dt.datetime | None = None
    hold_event_id: str | None = None
    prompts_sent: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    instants: DayInstants | None = None
    excused: list[str] = field(default_factory=list)  # check-ins a partial absence excused
    problems: list[str] = field(default_factory=list)  # side roads that failed, e.g. "prompt:slack"


@dataclass(frozen=True)
class DayKey:
    person_id: int
    date: dt.date
    workflow_id: str


@dataclass(frozen=True)
class DayContext:
    """Everything the workflow needs to know about the person and the program for the day."""

    learning_day_id: int
    person_id: int
    person_email: str
    person_name: str
    timezone: str
    slack_user_id: str | None
    policy: Policy
    recorded_absence: str | None
    checkin_url: str


@dataclass(frozen=True)
class DayStateChange:
    learning_day_id: int
    state: str
    skip_reason: str | None = None
    hold_event_id: str | None = None
    channel_thread_ts: str | None = None


@dataclass(frozen=True)
class CheckInRecord:
    learning_day_id: int
    kind: str
    text: str
    source: str
    at: dt.datetime
    why: str | None = None
    category: str | None = None
    resources: str | None = None
    revision: int = 1  # the workflow's count of accepted versions of this check-in


@dataclass(frozen=True)
class CheckInSaved:
    check_in_id: int
    edited: bool


@dataclass(frozen=True)
class FlagRecord:
    person_id: int
    learning_day_id: int | None
    kind: str
    date: dt.date
    reason: str
    at: dt.datetime
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExcusedCheckIn:
    """An unanswered check-in excused by a partial absence: recorded, never flagged."""

    learning_day_id: int
    kind: str
    reason: str
