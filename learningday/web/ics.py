"""Each person's Learning Day holds as an iCalendar feed, for the local calendar.

A calendar app subscribes to `/ics/<token>.ics` and polls it. The token is the person id signed
with the secret key: it cannot be guessed or pointed at someone else, and it names nobody. It does
not expire (subscriptions live for years); rotating the secret key revokes every feed.
Changed holds carry a higher SEQUENCE and removed ones stay listed as CANCELLED, so a subscribed
client updates or drops its copy instead of keeping a stale one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Response
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from activities.calendar.local import CANCELLED, as_utc
from learningday.db.engine import session_scope
from learningday.db.models import CalendarHold, Person
from learningday.settings import get_settings
from policies.text import one_line

router = APIRouter()

_SALT = "learningday.ics"
UID_DOMAIN = "learningday"
HISTORY = dt.timedelta(days=366)  # older holds drop out of the feed; calendar apps keep their copies


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def feed_token(person_id: int) -> str:
    """The signed token in a person's feed URL."""
    return str(_serializer().dumps(person_id))


def person_from_token(token: str) -> int | None:
    """The person id a feed token was made for; None when the token is forged or malformed."""
    try:
        person_id = _serializer().loads(token)
    except BadSignature:
        return None
    return person_id if isinstance(person_id, int) and not isinstance(person_id, bool) else None


def feed_url(person_id: int) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/ics/{feed_token(person_id)}.ics"


@router.get("/ics/{token}.ics")
def holds_feed(token: str) -> Response:
    person_id = person_from_token(token)
    if person_id is None:
        raise HTTPException(status_code=404, detail="No such calendar feed: ask for your feed link again.")
    with session_scope() as session:
        person = session.get(Person, person_id)
        if person is None:
            raise HTTPException(status_code=404, detail="No such calendar feed: ask for your feed link again.")
        since = dt.datetime.now(dt.timezone.utc).date() - HISTORY
        holds = session.scalars(
            select(CalendarHold)
            .where(CalendarHold.person_id == person_id, CalendarHold.date >= since)
            .order_by(CalendarHold.starts_at, CalendarHold.event_id)
        ).all()
        body = render_feed(person.name, holds)
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Content-Disposition": 'inline; filename="learning-day.ics"'},
    )


def render_feed(name: str, holds: Sequence[CalendarHold]) -> bytes:
    """The feed for `name`'s holds; text from the database is made single-line, since a name
    stored with a line break (before imports refused one) must not take the feed down."""
    calendar = Calendar()
    calendar.add("prodid", "-//Learning Day//learningday//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Learning Day — {one_line(name)}")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for hold in holds:
        event = Event()
        event.add("uid", f"{hold.event_id}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        if hold.updated_at is not None:
            event.add("last-modified", as_utc(hold.updated_at).replace(microsecond=0))
        event.add("dtstart", as_utc(hold.starts_at))
        event.add("dtend", as_utc(hold.ends_at))
        event.add("summary", one_line(hold.title))
        event.add("sequence", hold.sequence)
        event.add("status", "CANCELLED" if hold.status == CANCELLED else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
