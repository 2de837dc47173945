"""LocalCalendar on the database, and the ICS feed a person subscribes to."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.calendar.local import LocalCalendar
from learningday.contracts.calendar import EventQuery, HoldRequest, hold_event_id
from learningday.db.models import CalendarHold, Person
from learningday.web import ics

UTC = dt.UTC
THURSDAY = dt.date(2026, 12, 3)
ADA = "ada@example.com"


@pytest.fixture
def ada(engine: Engine, session: Session) -> Person:
    person = Person(email=ADA, name="Ada Lovelace", timezone="Europe/Berlin")
    session.add_all([person, Person(email="grace@example.com", name="Grace Hopper", timezone="America/New_York")])
    session.commit()
    return person


@pytest.fixture
def calendar(ada: Person) -> LocalCalendar:
    return LocalCalendar()


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(ics.router)
    return TestClient(app)


def hold(email: str = ADA, date: dt.date = THURSDAY, start_hour: int = 8, end_hour: int = 16) -> HoldRequest:
    return HoldRequest(
        person_email=email,
        date=date,
        starts_at=dt.datetime.combine(date, dt.time(start_hour), UTC),
        ends_at=dt.datetime.combine(date, dt.time(end_hour), UTC),
        timezone="Europe/Berlin",
    )


def query(email: str = ADA) -> EventQuery:
    return EventQuery(
        person_email=email,
        starts_at=dt.datetime(2026, 12, 3, tzinfo=UTC),
        ends_at=dt.datetime(2026, 12, 4, tzinfo=UTC),
    )


def stored(session: Session, event_id: str) -> CalendarHold:
    session.expire_all()
    hold = session.get(CalendarHold, event_id)
    assert hold is not None
    return hold


def test_placed_hold_is_stored_and_listed_as_ours(calendar: LocalCalendar, session: Session) -> None:
    ref = calendar.place_hold(hold())

    assert (ref.event_id, ref.kind, ref.created) == (hold_event_id(ADA, THURSDAY), "local", True)
    [event] = calendar.list_events(query())
    assert event.event_id == ref.event_id
    assert (event.starts_at, event.ends_at) == (
        dt.datetime(2026, 12, 3, 8, tzinfo=UTC),
        dt.datetime(2026, 12, 3, 16, tzinfo=UTC),
    )
    assert (event.is_ours, event.organizer_self, event.title) == (True, True, "Learning Day")
    assert (stored(session, ref.event_id).status, stored(session, ref.event_id).sequence) == ("confirmed", 0)


def test_retried_hold_is_not_duplicated_and_keeps_its_sequence(calendar: LocalCalendar, session: Session) -> None:
    calendar.place_hold(hold())
    again = calendar.place_hold(hold())

    assert again.created is False
    assert session.scalars(select(CalendarHold)).all() == [stored(session, again.event_id)]
    assert stored(session, again.event_id).sequence == 0


def test_changed_hours_update_the_hold_and_bump_its_sequence(calendar: LocalCalendar, session: Session) -> None:
    calendar.place_hold(hold())
    moved = calendar.place_hold(hold(start_hour=9, end_hour=15))

    [event] = calendar.list_events(query())
    assert event.starts_at == dt.datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert stored(session, moved.event_id).sequence == 1


def test_removed_hold_is_cancelled_and_placing_it_again_revives_it(calendar: LocalCalendar, session: Session) -> None:
    ref = calendar.place_hold(hold())

    assert calendar.remove_hold(ADA, THURSDAY) is True
    assert (stored(session, ref.event_id).status, stored(session, ref.event_id).sequence) == ("cancelled", 1)
    assert calendar.list_events(query()) == []
    assert calendar.remove_hold(ADA, THURSDAY) is False

    revived = calendar.place_hold(hold())
    assert revived.created is False
    assert (stored(session, ref.event_id).status, stored(session, ref.event_id).sequence) == ("confirmed", 2)


def test_removing_a_hold_never_placed_reports_nothing_removed(calendar: LocalCalendar) -> None:
    assert calendar.remove_hold(ADA, THURSDAY) is False


def test_listing_shows_only_the_persons_holds_inside_the_window(calendar: LocalCalendar) -> None:
    calendar.place_hold(hold())
    calendar.place_hold(hold(date=THURSDAY + dt.timedelta(days=7)))
    calendar.place_hold(hold(email="grace@example.com"))

    assert [e.event_id for e in calendar.list_events(query())] == [hold_event_id(ADA, THURSDAY)]
    assert [e.event_id for e in calendar.list_events(query("grace@example.com"))] == [
        hold_event_id("grace@example.com", THURSDAY)
    ]


def test_hold_for_an_unknown_person_names_the_email(calendar: LocalCalendar) -> None:
    with pytest.raises(LookupError, match="nobody@example.com"):
        calendar.place_hold(hold(email="nobody@example.com"))


def test_feed_shows_the_persons_holds_with_uid_sequence_and_status(
    calendar: LocalCalendar, ada: Person, client: TestClient
) -> None:
    today = dt.datetime.now(UTC).date()
    calendar.place_hold(hold(date=today))
    calendar.place_hold(hold(date=today + dt.timedelta(days=7)))
    calendar.place_hold(hold(date=today + dt.timedelta(days=7), start_hour=9))
    calendar.remove_hold(ADA, today)
    calendar.place_hold(hold(email="grace@example.com", date=today))

    response = client.get(f"/ics/{ics.feed_token(ada.id)}.ics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    feed = Calendar.from_ical(response.content)
    events = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    assert set(events) == {
        f"{hold_event_id(ADA, today)}@learningday",
        f"{hold_event_id(ADA, today + dt.timedelta(days=7))}@learningday",
    }
    removed = events[f"{hold_event_id(ADA, today)}@learningday"]
    assert (str(removed["STATUS"]), int(removed["SEQUENCE"])) == ("CANCELLED", 1)
    moved = events[f"{hold_event_id(ADA, today + dt.timedelta(days=7))}@learningday"]
    assert (str(moved["STATUS"]), int(moved["SEQUENCE"])) == ("CONFIRMED", 1)
    assert moved.decoded("DTSTART") == dt.datetime.combine(today + dt.timedelta(days=7), dt.time(9), UTC)
    assert str(moved["SUMMARY"]) == "Learning Day"
    assert "DTSTAMP" in moved


@pytest.mark.parametrize("token", ["not-a-token", "1.forged-signature"])
def test_feed_with_a_bad_token_is_not_found(ada: Person, client: TestClient, token: str) -> None:
    assert client.get(f"/ics/{token}.ics").status_code == 404


def test_feed_token_with_a_tampered_person_is_not_found(ada: Person, client: TestClient) -> None:
    payload, stamp, signature = ics.feed_token(ada.id).split(".")
    other = ics.feed_token(ada.id + 1).split(".")[0]

    assert client.get(f"/ics/{other}.{stamp}.{signature}.ics").status_code == 404
    assert client.get(f"/ics/{payload}.{stamp}.{signature}.ics").status_code == 200


def test_feed_for_a_person_who_no_longer_exists_is_not_found(engine: Engine, client: TestClient) -> None:
    assert client.get(f"/ics/{ics.feed_token(999_999)}.ics").status_code == 404


def test_feed_token_round_trips_and_rejects_forgery(ada: Person) -> None:
    assert ics.person_from_token(ics.feed_token(ada.id)) == ada.id
    assert ics.person_from_token(ics.feed_token(ada.id) + "x") is None


# No NUL among them: PostgreSQL cannot store one, so no stored name holds it.
@pytest.mark.parametrize("name", ["Ada\nLovelace", "Ada\r\nLovelace", "Ada\x1b\u2028Lovelace"])
def test_feed_of_a_person_whose_name_has_a_line_break_is_still_a_valid_calendar(
    calendar: LocalCalendar, ada: Person, session: Session, client: TestClient, name: str
) -> None:
    # Stored before names were checked at import: the feed must not fail for it.
    session.get(Person, ada.id).name = name  # type: ignore[union-attr]
    session.commit()
    today = dt.datetime.now(UTC).date()
    calendar.place_hold(hold(date=today))

    response = client.get(f"/ics/{ics.feed_token(ada.id)}.ics")

    assert response.status_code == 200
    feed = Calendar.from_ical(response.content)
    assert str(feed["X-WR-CALNAME"]) == "Learning Day — Ada Lovelace"
    assert [str(e["UID"]) for e in feed.walk("VEVENT")] == [f"{hold_event_id(ADA, today)}@learningday"]
