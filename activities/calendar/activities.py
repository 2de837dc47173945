"""Temporal activities over the calendar port; the worker picks Google or the local calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from temporalio import activity

from activities.calendar.port import Calendar, EventQuery, HoldRef, HoldRequest


@dataclass(frozen=True)
class HoldRemoval:
    person_email: str
    date: dt.date


@dataclass(frozen=True)
class HoldUnlessAway:
    """Place this hold unless the person is out of office somewhere in this window."""

    away_query: EventQuery
    hold: HoldRequest


@dataclass(frozen=True)
class HoldOrAway:
    """Exactly one is set: the hold placed, or the title of the out-of-office event found."""

    hold: HoldRef | None = None
    out_of_office: str | None = None


class CalendarActivities:
    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar

    @activity.defn(name="place_hold")
    def place_hold(self, request: HoldRequest) -> HoldRef:
        return self._calendar.place_hold(request)

    @activity.defn(name="remove_hold")
    def remove_hold(self, removal: HoldRemoval) -> bool:
        return self._calendar.remove_hold(removal.person_email, removal.date)

    @activity.defn(name="find_out_of_office")
    def find_out_of_office(self, query: EventQuery) -> str | None:
        """The title of an out-of-office event overlapping the window, or None."""
        for event in self._calendar.list_events(query):
            if event.event_type == "outOfOffice":
                return event.title
        return None

    @activity.defn(name="hold_unless_out_of_office")
    def hold_unless_out_of_office(self, request: HoldUnlessAway) -> HoldOrAway:
        """The morning's two calendar calls in one activity: one task-queue round trip (and
        six history events) fewer per learner-day. Both halves are idempotent on retry."""
        away = self.find_out_of_office(request.away_query)
        if away is not None:
            return HoldOrAway(out_of_office=away)
        return HoldOrAway(hold=self.place_hold(request.hold))
