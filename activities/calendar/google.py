"""Google Calendar v3 behind the calendar port, acting as each person (domain-wide delegation).

A hold is a focusTime event (it auto-declines conflicting invitations) on the person's primary
calendar, with a deterministic id so that a retry, a worker restart or a changed policy updates
the same event instead of making a second one. Calendars that refuse focusTime (consumer accounts,
non-primary calendars) get an ordinary busy event with the same id.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httplib2
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.errors import HttpError

from activities.google_client import SharedCollection
from learningday.contracts.calendar import CalendarEvent, EventQuery, HoldRef, HoldRequest, hold_event_id

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/calendar.events"]
CALENDAR_SERVICE_PATH = "calendar/v3/"
HOLD_MARK = ("learningday", "hold")  # extendedProperties.private key/value on every hold we place


def load_credentials(
    service_account_file: str | Path | None, credentials_info: Mapping[str, Any] | None, scopes: list[str]
) -> service_account.Credentials:
    """Service-account credentials from a key file or its parsed JSON; the key's `token_uri` is used."""
    if credentials_info is not None:
        # google-auth leaves these constructors unannotated: the annotation says what they return.
        from_info: service_account.Credentials = service_account.Credentials.from_service_account_info(
            dict(credentials_info), scopes=scopes
        )
        return from_info
    if service_account_file is None:
        raise ValueError(
            "no Google service-account key: set LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE to the JSON key file"
        )
    path = Path(service_account_file)
    if not path.is_file():
        raise FileNotFoundError(
            f"Google service-account key {path} does not exist: check LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE"
        )
    from_file: service_account.Credentials = service_account.Credentials.from_service_account_file(
        str(path), scopes=scopes
    )
    return from_file


def service_endpoint(api_endpoint: str | None, service_path: str) -> str | None:
    """The client's base URL for an API root such as `http://127.0.0.1:9000` (None: Google itself).

    `client_options.api_endpoint` replaces rootUrl *and* servicePath, so the path is added here and
    one setting (`google_api_endpoint`) serves Calendar and Gmail alike.
    """
    if not api_endpoint:
        return None
    return api_endpoint.rstrip("/") + "/" + service_path


class DelegatedCredentials:
    """One service account's credentials per impersonated user, kept so tokens are reused."""

    def __init__(self, base: service_account.Credentials):
        self._base = base
        self._by_subject: dict[str, service_account.Credentials] = {}
        self._lock = threading.Lock()

    def for_subject(self, email: str) -> service_account.Credentials:
        key = email.lower()
        with self._lock:
            if key not in self._by_subject:
                self._by_subject[key] = self._base.with_subject(key)
            return self._by_subject[key]


class GoogleCalendar:
    """The Calendar port on Google Calendar. Thread-safe: each call sends over its own HTTP client."""

    def __init__(
        self,
        service_account_file: str | Path | None = None,
        *,
        credentials_info: Mapping[str, Any] | None = None,
        api_endpoint: str | None = None,
        num_retries: int = 5,
        timeout: float = 30.0,
        page_size: int = 250,
        chat_status: str = "doNotDisturb",
    ):
        self._credentials = DelegatedCredentials(load_credentials(service_account_file, credentials_info, SCOPES))
        self._endpoint = service_endpoint(api_endpoint, CALENDAR_SERVICE_PATH)
        self._collection = SharedCollection("calendar", "v3", ("events",), self._endpoint)
        self._num_retries = num_retries
        self._timeout = timeout
        self._page_size = page_size
        self._chat_status = chat_status

    def _events(self, person_email: str) -> Any:
        # httplib2.Http is not thread-safe, so every call gets its own, with a bounded timeout
        # (googleapiclient's default is 60 s, or none at all if a socket default is set).
        http = AuthorizedHttp(self._credentials.for_subject(person_email), http=httplib2.Http(timeout=self._timeout))
        return self._collection.over(http)

    def _run(self, request: Any) -> Any:
        """Execute with retries: 429, 5xx and 403 rate-limit answers back off and try again."""
        return request.execute(num_retries=self._num_retries)

    # --- holds -----------------------------------------------------------------------------

    def place_hold(self, request: HoldRequest) -> HoldRef:
        events = self._events(request.person_email)
        kind: Literal["focusTime", "default"] = "focusTime" if request.focus_time else "default"
        try:
            self._run(events.insert(calendarId="primary", body=self._hold_body(request, kind), sendUpdates="none"))
            return HoldRef(request.event_id, kind, created=True)
        except HttpError as error:
            if error.resp.status == 409:
                return self._update_existing(events, request)
            if error.resp.status != 400 or kind != "focusTime":
                raise
            # The event id, not the person: no personal data in logs.
            log.info(
                "calendar refused focusTime hold %s (%s); placing a busy event", request.event_id, error.resp.status
            )
        try:
            self._run(events.insert(calendarId="primary", body=self._hold_body(request, "default"), sendUpdates="none"))
            return HoldRef(request.event_id, "default", created=True)
        except HttpError as error:
            if error.resp.status == 409:
                return self._update_existing(events, request)
            raise

    def _update_existing(self, events: Any, request: HoldRequest) -> HoldRef:
        """The id exists (placed by an earlier attempt, maybe since cancelled): update it in place.

        The event type of an existing event cannot be changed, so the hold keeps the type it was
        created with; a cancelled hold is revived by the update's `status: confirmed`.
        """
        existing = self._run(events.get(calendarId="primary", eventId=request.event_id))
        kind = existing.get("eventType", "default")
        if kind not in {"focusTime", "default"}:
            raise RuntimeError(
                f"event {request.event_id} on {request.person_email}'s calendar is a {kind} event, not a "
                "Learning Day hold: remove it or change the hold id scheme"
            )
        body = self._hold_body(request, kind)
        self._run(events.update(calendarId="primary", eventId=request.event_id, body=body, sendUpdates="none"))
        return HoldRef(request.event_id, kind, created=False)

    def _hold_body(self, request: HoldRequest, kind: str) -> dict[str, Any]:
        zone = ZoneInfo(request.timezone)
        body: dict[str, Any] = {
            "id": request.event_id,
            "summary": request.title,
            "description": request.description,
            "start": {"dateTime": request.starts_at.astimezone(zone).isoformat(), "timeZone": request.timezone},
            "end": {"dateTime": request.ends_at.astimezone(zone).isoformat(), "timeZone": request.timezone},
            "transparency": "opaque",
            "status": "confirmed",
            "eventType": kind,
            "extendedProperties": {
                "private": {HOLD_MARK[0]: HOLD_MARK[1], "learningdayDate": request.date.isoformat()}
            },
        }
        if kind == "focusTime":
            focus: dict[str, Any] = {"autoDeclineMode": request.auto_decline, "chatStatus": self._chat_status}
            if request.decline_message and request.auto_decline != "declineNone":
                focus["declineMessage"] = request.decline_message
            body["focusTimeProperties"] = focus
        return body

    def remove_hold(self, person_email: str, date: dt.date) -> bool:
        events = self._events(person_email)
        event_id = hold_event_id(person_email, date)
        try:
            self._run(events.delete(calendarId="primary", eventId=event_id, sendUpdates="none"))
        except HttpError as error:
            if error.resp.status in {404, 410}:  # never placed, or already deleted
                return False
            raise
        return True

    # --- reading ---------------------------------------------------------------------------

    def list_events(self, query: EventQuery) -> list[CalendarEvent]:
        events = self._events(query.person_email)
        request = events.list(
            calendarId="primary",
            timeMin=_rfc3339(query.starts_at),
            timeMax=_rfc3339(query.ends_at),
            singleEvents=True,
            orderBy="startTime",
            maxResults=self._page_size,
            timeZone=query.timezone,
        )
        found: list[CalendarEvent] = []
        while request is not None:
            response = self._run(request)
            found += [_to_event(item, query) for item in response.get("items", [])]
            request = events.list_next(request, response)
        return found


def _rfc3339(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone: calendar queries take aware datetimes")
    return moment.astimezone(dt.UTC).isoformat()


def _instant(value: Mapping[str, Any], timezone: str) -> dt.datetime:
    """An EventDateTime as aware UTC; an all-day date starts at local midnight."""
    if value.get("dateTime"):
        moment = dt.datetime.fromisoformat(value["dateTime"])
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(value.get("timeZone") or timezone))
    else:
        moment = dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), ZoneInfo(timezone))
    return moment.astimezone(dt.UTC)


def _to_event(item: Mapping[str, Any], query: EventQuery) -> CalendarEvent:
    starts_at = _instant(item["start"], query.timezone)
    attendees = [a for a in item.get("attendees", []) if not a.get("resource")]
    own = next((a for a in attendees if a.get("self")), None)
    private = item.get("extendedProperties", {}).get("private", {})
    local_date = starts_at.astimezone(ZoneInfo(query.timezone)).date()
    return CalendarEvent(
        event_id=item["id"],
        title=item.get("summary", ""),
        starts_at=starts_at,
        ends_at=_instant(item["end"], query.timezone),
        event_type=item.get("eventType", "default"),
        organizer_self=bool(item.get("organizer", {}).get("self")),
        response_status=own.get("responseStatus") if own else None,
        attendee_count=len(attendees),
        transparency=item.get("transparency", "opaque"),
        is_ours=private.get(HOLD_MARK[0]) == HOLD_MARK[1]
        or item["id"] == hold_event_id(query.person_email, local_date),
    )
