"""Calendar v3 event semantics for one acting user and calendar: client-chosen ids (409 on
reuse, even of a cancelled event), deletion that keeps a cancelled copy, focusTime and
outOfOffice only on a Workspace user's primary calendar, pagination."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from tests.peers.google.state import ApiError, b64url_decode, now_stamp, parse_time

if TYPE_CHECKING:
    from tests.peers.google.peer import GooglePeer

EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
SPECIAL_TYPES = {"focusTime", "outOfOffice"}


def render_for(event: dict[str, Any], viewer: str) -> dict[str, Any]:
    """The event as the viewer sees it: `self` set on their attendee/organizer entries."""
    shown = copy.deepcopy(event)
    for person in [shown.get("creator"), shown.get("organizer"), *shown.get("attendees", [])]:
        if isinstance(person, dict) and person.get("email", "").lower() == viewer:
            person["self"] = True
    return shown


class CalendarEvents:
    """Calendar v3 events semantics for one acting user and calendar."""

    def __init__(self, peer: GooglePeer, user: str, calendar_id: str):
        self.peer, self.user, self.calendar_id = peer, user, calendar_id

    def _events(self) -> dict[str, dict[str, Any]]:
        return self.peer._calendar(self.user, self.calendar_id)

    def _check_semantics(self, event: dict[str, Any]) -> None:
        start = parse_time(event.get("start") or {}, "start")
        end = parse_time(event.get("end") or {}, "end")
        if end < start:
            raise ApiError(400, "The specified time range is empty.", "timeRangeEmpty")
        kind = event.get("eventType", "default")
        if event.get("focusTimeProperties") is not None and kind != "focusTime":
            raise ApiError(400, "focusTimeProperties is only allowed on focusTime events.")
        if kind in SPECIAL_TYPES:
            if not self.peer._is_primary(self.user, self.calendar_id):
                raise ApiError(
                    400, f"{kind} events can only be created on the primary calendar.", "eventTypeRestriction"
                )
            if self.user in self.peer.state.non_workspace_users:
                raise ApiError(
                    400, f"{kind} events are only available to Google Workspace users.", "eventTypeRestriction"
                )
            if not (event["start"].get("dateTime") and event["end"].get("dateTime")):
                raise ApiError(400, f"{kind} events cannot be all-day events.", "eventTypeRestriction")
            if event.get("transparency", "opaque") != "opaque":
                raise ApiError(400, f"{kind} events must be opaque.", "eventTypeRestriction")

    def _found(self, event_id: str) -> dict[str, Any]:
        event = self._events().get(event_id)
        if event is None:
            raise ApiError(404, "Not Found", "notFound")
        return event

    def insert(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.peer._lock:
            if body.get("id") in self._events():
                raise ApiError(409, "The requested identifier already exists.", "duplicate")
            self._check_semantics(body)
            event = self.peer._complete(copy.deepcopy(body), self.user, self.calendar_id)
            event["sequence"] = 0
            self._events()[event["id"]] = event
            return render_for(event, self.user)

    def get(self, event_id: str) -> dict[str, Any]:
        with self.peer._lock:
            return render_for(self._found(event_id), self.user)

    def update(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.peer._lock:
            return self._replace(event_id, copy.deepcopy(body))

    def patch(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.peer._lock:
            merged = merge_patch(copy.deepcopy(self._found(event_id)), copy.deepcopy(body))
            return self._replace(event_id, merged)

    def _replace(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        old = self._found(event_id)
        if body.get("id", event_id) != event_id:
            raise ApiError(400, "The event id in the body does not match the URL.")
        if body.get("eventType", "default") != old.get("eventType", "default"):
            raise ApiError(400, "The event type cannot be changed.", "eventTypeRestriction")
        self._check_semantics(body)
        event = {k: v for k, v in body.items() if k not in {"created", "sequence"}}
        event.setdefault("status", "confirmed")  # an update without a status revives a cancelled event
        event["id"], event["created"] = event_id, old["created"]
        changed = any(event.get(k) != old.get(k) for k in ("start", "end", "summary", "status"))
        event["sequence"] = old["sequence"] + (1 if changed else 0)
        for key in ("creator", "organizer"):
            event.setdefault(key, old[key])
        event = self.peer._complete(event, self.user, self.calendar_id)
        self._events()[event_id] = event
        return render_for(event, self.user)

    def delete(self, event_id: str) -> None:
        with self.peer._lock:
            event = self._found(event_id)
            if event["status"] == "cancelled":
                raise ApiError(410, "Resource has been deleted", "deleted")
            event["status"] = "cancelled"
            event["sequence"] += 1
            event["updated"] = now_stamp()

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        one = {k: v[-1] for k, v in query.items()}
        single = one.get("singleEvents") == "true"
        if one.get("orderBy") == "startTime" and not single:
            raise ApiError(400, "orderBy=startTime needs singleEvents=true.")
        time_min = dt.datetime.fromisoformat(one["timeMin"]) if "timeMin" in one else None
        time_max = dt.datetime.fromisoformat(one["timeMax"]) if "timeMax" in one else None
        types = set(query.get("eventTypes", []))
        show_deleted = one.get("showDeleted") == "true"
        page_size = min(int(one.get("maxResults", 250)), 2500)
        offset = int(b64url_decode(one["pageToken"]).decode()) if "pageToken" in one else 0
        with self.peer._lock:
            events = list(self._events().values())
        matching = []
        for event in events:
            if event["status"] == "cancelled" and not show_deleted:
                continue
            if types and event.get("eventType", "default") not in types:
                continue
            start, end = parse_time(event["start"], "start"), parse_time(event["end"], "end")
            if (time_min and end <= time_min) or (time_max and start >= time_max):
                continue
            matching.append((start, event["id"], event))
        matching.sort(key=lambda item: (item[0], item[1]))
        page = matching[offset : offset + page_size]
        result: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": self.user,
            "timeZone": "UTC",
            "updated": now_stamp(),
            "items": [render_for(event, self.user) for _, _, event in page],
        }
        if offset + page_size < len(matching):
            result["nextPageToken"] = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
        return result


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field, everything else is replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = value
    return target
