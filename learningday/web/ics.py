"""Each person's Learning Day holds as an iCalendar feed, for the local calendar.

A calendar app subscribes to `/ics/<token>.ics` and polls it. The token is the person id signed
for `Purpose.FEED_LINK` (see `learningday.tokens`): it cannot be guessed or pointed at someone
else, and it names nobody. It expires a year after it was made (subscriptions live long; the Me
page always shows a fresh link to subscribe to again); a deactivated person's feed is a 404, like
one that never existed; rotating the secret key revokes every feed.
Changed holds carry a higher SEQUENCE and removed ones stay listed as CANCELLED, so a subscribed
client updates or drops its copy instead of keeping a stale one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Response
from icalendar import Calendar, Event
from sqlalchemy import select

from learningday.db.engine import session_scope
from learningday.db.holds import CANCELLED, as_utc
from learningday.db.models import CalendarHold, Person
from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign
from policies.text import one_line

router = APIRouter()

UID_DOMAIN = "learningday"
HISTORY = dt.timedelta(days=366)  # older holds drop out of the feed; calendar apps keep their copies


def feed_token(person_id: int) -> str:
    """The signed token in a person's feed URL."""
    return sign(Purpose.FEED_LINK, person_id)


def person_from_token(token: str) -> int | None:
    """The person id a feed token was made for; None when the token is forged, malformed or expired."""
    try:
        person_id = read(Purpose.FEED_LINK, token)
    except TokenRefused:
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
        if person is None or not person.active:
            raise HTTPException(status_code=404, detail="No such calendar feed: ask for your feed link again.")
        since = dt.datetime.now(dt.UTC).date() - HISTORY
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
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
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
    feed: bytes = calendar.to_ical()  # icalendar leaves its return unannotated
    return feed
