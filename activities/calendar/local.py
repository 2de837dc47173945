"""The local calendar: holds kept in our own database and served to each person as an ICS feed.

The embedded default when no Google service account is configured. A person subscribes to their
feed (`learningday.web.ics`) in any calendar app; a changed hold bumps its SEQUENCE and a removed
one stays as CANCELLED, so subscribed clients update or drop their copy instead of keeping a stale
one. It knows only its own holds, so `list_events` returns nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from learningday.contracts.calendar import CalendarEvent, EventQuery, HoldRef, HoldRequest, hold_event_id
from learningday.db.engine import session_scope
from learningday.db.holds import CANCELLED, CONFIRMED, as_utc
from learningday.db.models import CalendarHold, Person

SessionFactory = Callable[[], AbstractContextManager[Session]]


class LocalCalendar:
    """The Calendar port on the `calendar_holds` table."""

    def __init__(self, sessions: SessionFactory = session_scope) -> None:
        self._sessions = sessions

    def place_hold(self, request: HoldRequest) -> HoldRef:
        with self._sessions() as session:
            person_id = _person_id(session, request.person_email)
            hold = session.get(CalendarHold, request.event_id)
            if hold is None:
                hold = CalendarHold(
                    event_id=request.event_id,
                    person_id=person_id,
                    date=request.date,
                    title=request.title,
                    starts_at=as_utc(request.starts_at),
                    ends_at=as_utc(request.ends_at),
                    status=CONFIRMED,
                    sequence=0,
                )
                try:
                    with session.begin_nested():
                        session.add(hold)
                    return HoldRef(request.event_id, "local", created=True)
                except IntegrityError:
                    # A concurrent attempt inserted it first: fall through and update theirs.
                    hold = session.get(CalendarHold, request.event_id)
                    assert hold is not None
            _update(hold, request)
            return HoldRef(request.event_id, "local", created=False)

    def remove_hold(self, person_email: str, date: dt.date) -> bool:
        with self._sessions() as session:
            hold = session.get(CalendarHold, hold_event_id(person_email, date))
            if hold is None or hold.status == CANCELLED:
                return False
            hold.status = CANCELLED
            hold.sequence += 1
            return True

    def list_events(self, query: EventQuery) -> list[CalendarEvent]:
        with self._sessions() as session:
            person_id = _person_id(session, query.person_email)
            holds = session.scalars(
                select(CalendarHold)
                .where(
                    CalendarHold.person_id == person_id,
                    CalendarHold.status == CONFIRMED,
                    CalendarHold.starts_at < as_utc(query.ends_at),
                    CalendarHold.ends_at > as_utc(query.starts_at),
                )
                .order_by(CalendarHold.starts_at, CalendarHold.event_id)
            ).all()
            return [
                CalendarEvent(
                    event_id=hold.event_id,
                    title=hold.title,
                    starts_at=as_utc(hold.starts_at),
                    ends_at=as_utc(hold.ends_at),
                    organizer_self=True,
                    is_ours=True,
                )
                for hold in holds
            ]


def _update(hold: CalendarHold, request: HoldRequest) -> None:
    """Bring the hold in line with the request; SEQUENCE moves only when something changed."""
    wanted = {
        "title": request.title,
        "starts_at": as_utc(request.starts_at),
        "ends_at": as_utc(request.ends_at),
        "status": CONFIRMED,
    }
    current = {
        "title": hold.title,
        "starts_at": as_utc(hold.starts_at),
        "ends_at": as_utc(hold.ends_at),
        "status": hold.status,
    }
    if wanted != current:
        for name, value in wanted.items():
            setattr(hold, name, value)
        hold.sequence += 1


def _person_id(session: Session, email: str) -> int:
    person_id = session.scalar(select(Person.id).where(func.lower(Person.email) == email.lower()))
    if person_id is None:
        raise LookupError(
            f"no person with email {email!r} in the people table: import the org (`learningday org import`) first"
        )
    return person_id
