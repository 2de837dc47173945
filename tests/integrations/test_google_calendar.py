"""GoogleCalendar through the real googleapiclient against the local Google peer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from activities.calendar.google import GoogleCalendar
from learningday.contracts.calendar import EventQuery, HoldRequest, hold_event_id
from tests.integrations.google_fixtures import backoffs, key_file, peer  # noqa: F401
from tests.peers.google import GooglePeer

PERSON = "ada@example.com"
THURSDAY = dt.date(2026, 12, 3)
UTC = dt.UTC


@pytest.fixture
def calendar(key_file: Path, peer: GooglePeer, backoffs: list[float]) -> GoogleCalendar:
    return GoogleCalendar(key_file, api_endpoint=peer.url, num_retries=2, timeout=5, page_size=2)


def hold(start_hour: int = 9, end_hour: int = 17, **changes: Any) -> HoldRequest:
    # Europe/Berlin is UTC+1 in December: 09:00-17:00 local.
    fields: dict[str, Any] = dict(
        person_email=PERSON,
        date=THURSDAY,
        starts_at=dt.datetime(2026, 12, 3, start_hour - 1, tzinfo=UTC),
        ends_at=dt.datetime(2026, 12, 3, end_hour - 1, tzinfo=UTC),
        timezone="Europe/Berlin",
        description="Self-study: see your plan in Slack.",
        decline_message="On Learning Day, back tomorrow.",
    )
    fields.update(changes)
    return HoldRequest(**fields)


def day_query() -> EventQuery:
    return EventQuery(
        person_email=PERSON,
        starts_at=dt.datetime(2026, 12, 2, 23, tzinfo=UTC),
        ends_at=dt.datetime(2026, 12, 3, 23, tzinfo=UTC),
        timezone="Europe/Berlin",
    )


def test_hold_is_a_focus_time_event_on_the_persons_primary_calendar(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    ref = calendar.place_hold(hold())

    assert (ref.event_id, ref.kind, ref.created) == (hold_event_id(PERSON, THURSDAY), "focusTime", True)
    [event] = peer.events(PERSON)
    assert event["id"] == ref.event_id
    assert event["eventType"] == "focusTime"
    assert event["transparency"] == "opaque"
    assert event["focusTimeProperties"] == {
        "autoDeclineMode": "declineOnlyNewConflictingInvitations",
        "chatStatus": "doNotDisturb",
        "declineMessage": "On Learning Day, back tomorrow.",
    }
    assert event["start"] == {"dateTime": "2026-12-03T09:00:00+01:00", "timeZone": "Europe/Berlin"}
    assert event["end"] == {"dateTime": "2026-12-03T17:00:00+01:00", "timeZone": "Europe/Berlin"}
    assert event["extendedProperties"]["private"]["learningday"] == "hold"
    assert {r.user for r in peer.api_requests()} == {PERSON}


def test_retried_hold_updates_the_same_event_instead_of_duplicating(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    calendar.place_hold(hold())
    again = calendar.place_hold(hold())

    assert again.created is False
    assert again.kind == "focusTime"
    assert len(peer.events(PERSON)) == 1
    assert [(r.method, r.status) for r in peer.api_requests()][1:] == [("POST", 409), ("GET", 200), ("PUT", 200)]


def test_changed_hours_move_the_existing_hold(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    first = calendar.place_hold(hold())
    moved = calendar.place_hold(hold(start_hour=10, end_hour=16))

    [event] = peer.events(PERSON)
    assert moved.event_id == first.event_id == event["id"]
    assert event["start"]["dateTime"] == "2026-12-03T10:00:00+01:00"
    assert event["end"]["dateTime"] == "2026-12-03T16:00:00+01:00"
    assert event["sequence"] == 1


def test_removed_hold_is_cancelled_and_placing_it_again_revives_it(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    calendar.place_hold(hold())

    assert calendar.remove_hold(PERSON, THURSDAY) is True
    assert [e["status"] for e in peer.events(PERSON)] == ["cancelled"]
    assert calendar.list_events(day_query()) == []
    assert calendar.remove_hold(PERSON, THURSDAY) is False  # already gone: 410

    revived = calendar.place_hold(hold())
    assert revived.created is False
    assert [e["status"] for e in peer.events(PERSON)] == ["confirmed"]


def test_removing_a_hold_that_was_never_placed_reports_nothing_removed(calendar: GoogleCalendar) -> None:
    assert calendar.remove_hold(PERSON, THURSDAY) is False


def test_calendar_refusing_focus_time_gets_a_busy_event_with_the_same_id(
    calendar: GoogleCalendar, peer: GooglePeer
) -> None:
    peer.make_non_workspace(PERSON)

    ref = calendar.place_hold(hold())
    again = calendar.place_hold(hold())

    assert (ref.kind, ref.created) == ("default", True)
    assert (again.kind, again.created) == ("default", False)
    [event] = peer.events(PERSON)
    assert event["id"] == hold_event_id(PERSON, THURSDAY)
    assert event["eventType"] == "default"
    assert event["transparency"] == "opaque"
    assert "focusTimeProperties" not in event


def test_hold_without_focus_time_is_a_busy_default_event(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    ref = calendar.place_hold(hold(focus_time=False))

    assert ref.kind == "default"
    assert [(e["eventType"], e["transparency"]) for e in peer.events(PERSON)] == [("default", "opaque")]


def test_listed_events_carry_type_response_and_our_hold(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    peer.seed_event(
        PERSON,
        {
            "summary": "Out of office",
            "eventType": "outOfOffice",
            "start": {"dateTime": "2026-12-03T13:00:00+01:00"},
            "end": {"dateTime": "2026-12-03T18:00:00+01:00"},
            "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations"},
        },
    )
    peer.seed_event(
        PERSON,
        {
            "summary": "Sprint planning",
            "start": {"dateTime": "2026-12-03T10:00:00+01:00"},
            "end": {"dateTime": "2026-12-03T11:00:00+01:00"},
            "organizer": {"email": "boss@example.com"},
            "attendees": [
                {"email": "boss@example.com", "responseStatus": "accepted"},
                {"email": PERSON, "responseStatus": "accepted"},
                {"email": "bob@example.com", "responseStatus": "declined"},
            ],
        },
    )
    calendar.place_hold(hold())

    events = calendar.list_events(day_query())

    by_title = {e.title: e for e in events}
    assert [e.title for e in events] == ["Learning Day", "Sprint planning", "Out of office"]
    assert by_title["Out of office"].event_type == "outOfOffice"
    assert by_title["Out of office"].starts_at == dt.datetime(2026, 12, 3, 12, tzinfo=UTC)
    meeting = by_title["Sprint planning"]
    assert (meeting.response_status, meeting.attendee_count, meeting.organizer_self) == ("accepted", 3, False)
    assert meeting.is_ours is False
    ours = by_title["Learning Day"]
    assert (ours.is_ours, ours.event_type, ours.organizer_self) == (True, "focusTime", True)
    [list_call, *_] = peer.api_requests("GET")
    assert list_call.query["singleEvents"] == ["true"]


def test_listing_follows_every_page(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    for hour in range(9, 14):
        peer.seed_event(
            PERSON,
            {
                "summary": f"Meeting at {hour}",
                "start": {"dateTime": f"2026-12-03T{hour:02d}:00:00+01:00"},
                "end": {"dateTime": f"2026-12-03T{hour:02d}:30:00+01:00"},
            },
        )

    events = calendar.list_events(day_query())

    assert [e.title for e in events] == [f"Meeting at {h}" for h in range(9, 14)]
    assert len(peer.api_requests("GET", "/events")) == 3  # pages of 2, 2 and 1


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "rateLimitExceeded"), (403, "rateLimitExceeded"), (500, "backendError")]
)
def test_rate_limited_and_failed_requests_are_retried_with_backoff(
    calendar: GoogleCalendar, peer: GooglePeer, backoffs: list[float], status: int, reason: str
) -> None:
    peer.fail_next(1, status=status, reason=reason)

    ref = calendar.place_hold(hold())

    assert ref.created is True
    assert [r.status for r in peer.api_requests()] == [status, 200]
    assert len(backoffs) == 1
    assert len(peer.events(PERSON)) == 1


def test_rate_limit_that_outlasts_the_retries_is_raised(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    peer.fail_next(3, status=429)

    with pytest.raises(HttpError) as raised:
        calendar.place_hold(hold())

    assert raised.value.resp.status == 429
    assert peer.events(PERSON) == []


def test_holds_for_different_people_stay_on_their_own_calendars(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    calendar.place_hold(hold())
    calendar.place_hold(hold(person_email="grace@example.com"))

    assert [e["id"] for e in peer.events(PERSON)] == [hold_event_id(PERSON, THURSDAY)]
    assert [e["id"] for e in peer.events("grace@example.com")] == [hold_event_id("grace@example.com", THURSDAY)]


# --- the peer refuses what Google refuses (so the schema assertions above can fail) ----------


def raw_events(peer: GooglePeer, key_file: Path, user: str = PERSON) -> Any:
    credentials = service_account.Credentials.from_service_account_file(
        str(key_file), scopes=["https://www.googleapis.com/auth/calendar"]
    ).with_subject(user)
    service = build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": f"{peer.url}/calendar/v3/"},
    )
    return service.events()


def timed(**fields: Any) -> dict[str, Any]:
    return {
        "start": {"dateTime": "2026-12-03T09:00:00Z"},
        "end": {"dateTime": "2026-12-03T10:00:00Z"},
        **fields,
    }


@pytest.mark.parametrize(
    "body",
    [
        timed(summary="x", colour="red"),  # unknown property
        timed(summary=3),  # wrong type
        timed(id="UPPER-case-id"),  # not base32hex
        timed(id="abc"),  # too short
        timed(focusTimeProperties={"autoDeclineMode": "declineEverything"}, eventType="focusTime"),
    ],
)
def test_peer_refuses_bodies_outside_the_event_schema(peer: GooglePeer, key_file: Path, body: dict[str, Any]) -> None:
    with pytest.raises(HttpError) as raised:
        raw_events(peer, key_file).insert(calendarId="primary", body=body).execute()

    assert raised.value.resp.status == 400
    assert len(peer.state.schema_errors) == 1
    peer.state.schema_errors.clear()  # expected here; the fixture checks the rest stay clean


@pytest.mark.parametrize(
    ("calendar_id", "body"),
    [
        ("team@group.calendar.google.com", timed(eventType="focusTime")),
        ("primary", timed(eventType="focusTime", transparency="transparent")),
        ("primary", {"eventType": "outOfOffice", "start": {"date": "2026-12-03"}, "end": {"date": "2026-12-04"}}),
    ],
)
def test_peer_refuses_focus_time_off_primary_transparent_or_all_day(
    peer: GooglePeer, key_file: Path, calendar_id: str, body: dict[str, Any]
) -> None:
    with pytest.raises(HttpError) as raised:
        raw_events(peer, key_file).insert(calendarId=calendar_id, body=body).execute()

    assert raised.value.resp.status == 400


def test_peer_keeps_a_deleted_id_taken(peer: GooglePeer, key_file: Path) -> None:
    events = raw_events(peer, key_file)
    events.insert(calendarId="primary", body=timed(id="abcdef0123")).execute()
    events.delete(calendarId="primary", eventId="abcdef0123").execute()

    with pytest.raises(HttpError) as raised:
        events.insert(calendarId="primary", body=timed(id="abcdef0123")).execute()

    assert raised.value.resp.status == 409
    shown = events.list(calendarId="primary", showDeleted=True).execute()["items"]
    assert [(e["id"], e["status"]) for e in shown] == [("abcdef0123", "cancelled")]
    assert events.list(calendarId="primary").execute()["items"] == []


def test_peer_refuses_a_token_request_without_a_subject(peer: GooglePeer, key_file: Path) -> None:
    import httplib2
    from google.auth.exceptions import RefreshError
    from google_auth_httplib2 import Request

    credentials = service_account.Credentials.from_service_account_file(
        str(key_file), scopes=["https://www.googleapis.com/auth/calendar"]
    )
    with pytest.raises(RefreshError):
        credentials.refresh(Request(httplib2.Http(timeout=5)))


def test_peer_filters_listings_by_event_type_and_time_window(peer: GooglePeer, key_file: Path) -> None:
    peer.seed_event(PERSON, timed(summary="Away", eventType="outOfOffice"))
    peer.seed_event(PERSON, timed(summary="Standup"))
    peer.seed_event(
        PERSON,
        {
            "summary": "Tomorrow",
            "start": {"dateTime": "2026-12-04T09:00:00Z"},
            "end": {"dateTime": "2026-12-04T10:00:00Z"},
        },
    )
    events = raw_events(peer, key_file)

    away = events.list(calendarId="primary", eventTypes=["outOfOffice"], singleEvents=True).execute()["items"]
    thursday = events.list(
        calendarId="primary", timeMin="2026-12-03T00:00:00Z", timeMax="2026-12-04T00:00:00Z", singleEvents=True
    ).execute()["items"]

    assert [e["summary"] for e in away] == ["Away"]
    assert sorted(e["summary"] for e in thursday) == ["Away", "Standup"]


def test_threads_sharing_one_client_each_act_as_their_own_person(calendar: GoogleCalendar, peer: GooglePeer) -> None:
    # The Calendar collection is built once per process; each call's requests must still go
    # out over that call's own connection, with that person's delegated token.
    from concurrent.futures import ThreadPoolExecutor

    people = [f"person{n}@example.com" for n in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda email: calendar.place_hold(hold(person_email=email)), people))

    for email in people:
        [event] = peer.events(email)
        assert event["id"] == hold_event_id(email, THURSDAY)
