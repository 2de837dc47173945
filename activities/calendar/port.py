"""The calendar port: the few operations a Learning Day needs from a calendar. What they take and
return is the workflows' too, so it is in learningday/contracts/calendar.py."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from learningday.contracts.calendar import CalendarEvent, EventQuery, HoldRef, HoldRequest


class Calendar(Protocol):
    def place_hold(self, request: HoldRequest) -> HoldRef:
        """Create or update the hold; idempotent (an existing id is updated, never duplicated)."""

    def remove_hold(self, person_email: str, date: dt.date) -> bool:
        """Cancel the hold if present; True when something was removed."""

    def list_events(self, query: EventQuery) -> list[CalendarEvent]:
        """Single (expanded) events overlapping the window, including out-of-office."""
