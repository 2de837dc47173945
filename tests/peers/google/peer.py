"""The peer's face to a test: start and stop it, seed calendars and the directory, inject
faults, read back what the code under test sent."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.peers.google.http import handler_for
from tests.peers.google.keys import service_account_info
from tests.peers.google.schema import documented_value_errors, validate_body
from tests.peers.google.state import Fault, PeerState, RecordedRequest, SentMail, now_stamp


class GooglePeer:
    """A Google API stand-in on 127.0.0.1 with an ephemeral port; state is kept in memory."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # seconds added to every answer, like a round trip to Google (bench/)
        self.state = PeerState()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> GooglePeer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="google-peer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GooglePeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_key_file(self, path: Path) -> Path:
        """A throwaway service-account key whose token_uri is this peer, written to `path`."""
        path.write_text(json.dumps(service_account_info(self.token_uri)))
        return path

    @property
    def url(self) -> str:
        """The API root, e.g. `http://127.0.0.1:54321` (what `google_api_endpoint` holds)."""
        assert self._server is not None, "start the peer first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    # knobs and inspection for tests
    def fail_next(self, count: int = 1, status: int = 429, reason: str | None = None) -> None:
        """Answer the next `count` API requests (not token requests) with an error."""
        default_reason = {429: "rateLimitExceeded", 403: "rateLimitExceeded"}.get(status, "backendError")
        with self._lock:
            self.state.faults += [Fault(status, reason or default_reason)] * count

    def make_non_workspace(self, user: str) -> None:
        """Treat `user` as a consumer account: focusTime and outOfOffice are refused."""
        with self._lock:
            self.state.non_workspace_users.add(user.lower())

    def add_directory_user(self, user: dict[str, Any]) -> dict[str, Any]:
        """A Workspace account for Admin SDK `users.list` (checked against the `User` schema)."""
        errors = validate_body(user, "User", "admin.directory_v1")
        for relation in user.get("relations") or []:
            errors += validate_body(relation, "UserRelation", "admin.directory_v1")
        for organization in user.get("organizations") or []:
            errors += validate_body(organization, "UserOrganization", "admin.directory_v1")
        if errors:
            raise ValueError(f"not a valid Directory API User: {errors}")
        stored = {
            "kind": "admin#directory#user",
            "id": f"{next(self._ids):021d}",
            "suspended": False,
            **copy.deepcopy(user),
        }
        with self._lock:
            self.state.directory_users.append(stored)
        return copy.deepcopy(stored)

    def allow_directory_admin(self, email: str) -> None:
        """Let `email` (the impersonated subject) read the directory; others get 403."""
        with self._lock:
            self.state.directory_admins.add(email.lower())

    def seed_event(self, user: str, event: dict[str, Any], calendar_id: str = "primary") -> dict[str, Any]:
        """Put an event on a calendar as if the person had made it (no validation of semantics)."""
        errors = validate_body(event, "Event", "calendar.v3") + documented_value_errors(event)
        if errors:
            raise ValueError(f"seeded event is not a valid Calendar v3 Event: {errors}")
        with self._lock:
            calendar = self._calendar(user, calendar_id)
            stored = self._complete(copy.deepcopy(event), user, calendar_id)
            calendar[stored["id"]] = stored
            return copy.deepcopy(stored)

    def events(self, user: str, calendar_id: str = "primary", include_cancelled: bool = True) -> list[dict[str, Any]]:
        with self._lock:
            events = list(self._calendar(user, calendar_id).values())
        return [copy.deepcopy(e) for e in events if include_cancelled or e["status"] != "cancelled"]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.state.requests)

    @property
    def schema_errors(self) -> list[str]:
        with self._lock:
            return list(self.state.schema_errors)

    @property
    def mail(self) -> list[SentMail]:
        with self._lock:
            return list(self.state.mail)

    def api_requests(self, method: str | None = None, path_contains: str = "") -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path != "/token" and (method is None or r.method == method) and path_contains in r.path
        ]

    # helpers used by the handler (called with the lock held)
    def _calendar(self, user: str, calendar_id: str) -> dict[str, dict[str, Any]]:
        key = user.lower() if calendar_id in {"primary", user.lower()} else calendar_id
        return self.state.calendars.setdefault(key, {})

    def _is_primary(self, user: str, calendar_id: str) -> bool:
        return calendar_id in {"primary", user.lower()}

    def _complete(self, event: dict[str, Any], user: str, calendar_id: str) -> dict[str, Any]:
        now = now_stamp()
        event.setdefault("id", base64.b32hexencode(f"peer{next(self._ids):08d}".encode()).decode().lower().rstrip("="))
        event.setdefault("status", "confirmed")
        event.setdefault("eventType", "default")
        event.setdefault("sequence", 0)
        event.setdefault("created", now)
        event["updated"] = now
        event["kind"] = "calendar#event"
        event["etag"] = f'"{next(self._ids)}"'
        event["iCalUID"] = f"{event['id']}@google.com"
        event["htmlLink"] = f"{self.url}/calendar/event?eid={event['id']}"
        owner = user.lower() if self._is_primary(user, calendar_id) else calendar_id
        event.setdefault("creator", {"email": owner})
        event.setdefault("organizer", {"email": owner})
        return event


@pytest.fixture
def google_peer() -> Iterator[GooglePeer]:
    with GooglePeer() as peer:
        yield peer
