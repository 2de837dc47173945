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
