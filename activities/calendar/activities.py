"""Temporal activities over the calendar port; the worker picks Google or the local calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from temporalio import activity

from activities.calendar.port import Calendar, EventQuery, HoldRef, HoldRequest
from policies.checkins import OutOfOffice


@dataclass(frozen=True)
class HoldRemoval:
    person_email: str
    date: dt.date


@dataclass(frozen=True)
class AwayEvents:
    """The out-of-office events overlapping a window; what they mean is the policies' call."""

    events: list[OutOfOffice]


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
    def find_out_of_office(self, query: EventQuery) -> AwayEvents:
        """Every out-of-office event overlapping the window, whole-day or not."""
        return AwayEvents(
            [
                OutOfOffice(title=event.title, starts_at=event.starts_at, ends_at=event.ends_at)
                for event in self._calendar.list_events(query)
                if event.event_type == "outOfOffice"
            ]
        )
