"""What counts as time away: the calendar's out-of-office events, and nothing else.

One rule for the three readers of a calendar: the day's workflow (skip or excuse), the day-end
judgement of used for work and the weekly audit (meetings and learning blocks while away).
"""

from __future__ import annotations

import datetime as dt

from activities.calendar.port import CalendarEvent
from policies.enforcement import away_intervals, is_out_of_office
from policies.spillover import absence_interval

NINE = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def event(event_type: str, title: str = "", hours: int = 1) -> CalendarEvent:
    return CalendarEvent(
        event_id=f"{event_type}-{title}",
        title=title,
        starts_at=NINE,
        ends_at=NINE + dt.timedelta(hours=hours),
        event_type=event_type,
    )


def test_only_the_calendars_out_of_office_kind_is_an_absence() -> None:
    assert is_out_of_office(event("outOfOffice", "Dentist"))
    assert not is_out_of_office(event("default", "Doctor"))  # a busy block, whatever its title
    assert not is_out_of_office(event("focusTime", "Out of office"))
    assert not is_out_of_office(event("workingLocation", "Home"))


def test_the_absences_of_a_day_are_its_out_of_office_events_as_they_stand() -> None:
    dentist, meeting, trip = event("outOfOffice", "Dentist"), event("default", "Sync"), event("outOfOffice", "Trip", 8)
    assert away_intervals([dentist, meeting, trip]) == [
        (NINE, NINE + dt.timedelta(hours=1)),
        (NINE, NINE + dt.timedelta(hours=8)),
    ]
    assert away_intervals([meeting]) == []


def test_an_absence_recorded_in_the_service_is_away_for_its_whole_local_days() -> None:
    # Tue 1 to Wed 2 Dec in Berlin (UTC+1): from Monday 23:00 to Wednesday 23:00 UTC.
    assert absence_interval(dt.date(2026, 12, 1), dt.date(2026, 12, 2), "Europe/Berlin") == (
        dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC),
    )
