"""Calendar payloads: a Learning Day hold, the events read back, and the queries that read them.
The port that carries them (Google or the local calendar) is activities/calendar/port.py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Literal

from policies.checkins import OutOfOffice


@dataclass(frozen=True)
class HoldRequest:
    """A Learning Day hold on one person's calendar."""

    person_email: str
    date: dt.date
    starts_at: dt.datetime  # aware UTC
    ends_at: dt.datetime
    timezone: str
    title: str = "Learning Day"
    description: str = ""
    focus_time: bool = True
    auto_decline: Literal["declineNone", "declineAllConflictingInvitations", "declineOnlyNewConflictingInvitations"] = (
        "declineOnlyNewConflictingInvitations"
    )
    decline_message: str = ""

    @property
    def event_id(self) -> str:
        return hold_event_id(self.person_email, self.date)


@dataclass(frozen=True)
class HoldRef:
    event_id: str
    kind: Literal["focusTime", "default", "local"]
    created: bool  # False when the hold already existed and was updated in place


@dataclass(frozen=True)
class CalendarEvent:
    """An event read from a person's calendar, reduced to what the rules look at."""

    event_id: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    event_type: str = "default"  # default | focusTime | outOfOffice | workingLocation
    organizer_self: bool = False
    response_status: str | None = None  # the person's own: accepted | declined | tentative | needsAction
    attendee_count: int = 0
    transparency: str = "opaque"
    is_ours: bool = False  # our own Learning Day hold


@dataclass(frozen=True)
class EventQuery:
    person_email: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str = "UTC"
    extra: dict[str, str] = field(default_factory=dict)


def hold_event_id(person_email: str, date: dt.date) -> str:
    """A deterministic Google event id: base32hex (a–v, 0–9), so a retried insert collides (409).

    Hashing the person and date keeps the id free of personal data and stable across retries,
    worker restarts and policy changes, which is what lets a hold be updated rather than re-made.
    """
    digest = hashlib.sha256(f"learningday:{person_email.lower()}:{date.isoformat()}".encode()).digest()
    return "ld" + base64.b32hexencode(digest[:20]).decode().lower().rstrip("=")


@dataclass(frozen=True)
class HoldRemoval:
    person_email: str
    date: dt.date


@dataclass(frozen=True)
class AwayEvents:
    """The out-of-office events overlapping a window; what they mean is the policies' call."""

    events: list[OutOfOffice]


@dataclass(frozen=True)
class DayEvents:
    """Every event of a person's Learning Day, for the day-end judgement of used for work."""

    events: list[CalendarEvent]
