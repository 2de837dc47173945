"""Temporal activities over the calendar port; the worker picks Google or the local calendar."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.calendar.port import Calendar
from learningday.contracts.calendar import (
    AwayEvents,
    DayEvents,
    EventQuery,
    HoldRef,
    HoldRemoval,
    HoldRequest,
)
from policies.checkins import OutOfOffice
from policies.enforcement import is_out_of_office


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
        """Every out-of-office event overlapping the window, whole-day or not (what counts as one:
        `policies.enforcement.is_out_of_office`)."""
        return AwayEvents(
            [
                OutOfOffice(title=event.title, starts_at=event.starts_at, ends_at=event.ends_at)
                for event in self._calendar.list_events(query)
                if is_out_of_office(event)
            ]
        )

    @activity.defn(name="read_day_events")
    def read_day_events(self, query: EventQuery) -> DayEvents:
        """The day's events (meetings, out-of-office, our hold). A calendar the vendor client
        could not read after its own retries is refused for good: the day is judged without it
        (workflows/day_end.py), as the weekly audit does for a week it cannot read."""
        try:
            return DayEvents(self._calendar.list_events(query))
        except SQLAlchemyError:
            raise  # the local calendar's database: retried by Temporal
        except Exception as error:  # noqa: BLE001 - the vendor client retried transient errors already
            raise ApplicationError(
                f"the calendar could not be read: {type(error).__name__}: {error}"[:500],
                type="CalendarUnreadable",
                non_retryable=True,
            ) from error
