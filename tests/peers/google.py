"""A local Google peer: the OAuth2 token endpoint, Calendar v3 events, Gmail send and the
Admin SDK Directory API's users.list.

The real `googleapiclient` talks to it over HTTP exactly as it talks to Google: the service-account
key's `token_uri` points at `/token`, and `client_options={"api_endpoint": ...}` at the APIs. Every
request body and query string is checked against the discovery documents shipped inside
googleapiclient, so a request Google would refuse is refused here too (and logged in
`schema_errors`, which tests assert is empty). The behaviours our code depends on are modelled:
client-chosen ids (409 on reuse, even of a cancelled event), deletion that keeps a cancelled copy,
focusTime/outOfOffice only on a Workspace user's primary calendar, pagination, and injected faults
(429, 403 rateLimitExceeded, 500) for retry tests.

Use it as a context manager (`with GooglePeer() as peer:`) or through the `google_peer` fixture.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
SPECIAL_TYPES = {"focusTime", "outOfOffice"}

# Values the Calendar API documents in prose (the discovery schema types them only as strings).
DOCUMENTED_VALUES: dict[str, set[str]] = {
    "eventType": {"default", "focusTime", "outOfOffice", "workingLocation", "birthday", "fromGmail"},
    "transparency": {"opaque", "transparent"},
    "status": {"confirmed", "tentative", "cancelled"},
    "visibility": {"default", "public", "private", "confidential"},
    "focusTimeProperties.autoDeclineMode": {
        "declineNone",
        "declineAllConflictingInvitations",
        "declineOnlyNewConflictingInvitations",
    },
    "outOfOfficeProperties.autoDeclineMode": {
        "declineNone",
        "declineAllConflictingInvitations",
        "declineOnlyNewConflictingInvitations",
    },
    "focusTimeProperties.chatStatus": {"available", "doNotDisturb"},
}


# --- discovery documents and validation ---------------------------------------------------


@lru_cache
def discovery(api: str) -> dict[str, Any]:
    """The discovery document googleapiclient ships, e.g. `discovery("calendar.v3")`."""
    text = (
        resources.files("googleapiclient")
        .joinpath("discovery_cache", "documents", f"{api}.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def validate_body(value: Any, schema_id: str, api: str) -> list[str]:
    """Errors in `value` against the discovery schema `schema_id`: unknown properties, wrong types."""
    schemas = discovery(api)["schemas"]
    return _validate(value, schemas[schema_id], schemas, schema_id)


def _validate(value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str) -> list[str]:
    if value is None:  # JSON null clears a field; Google accepts it everywhere
        return []
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        errors: list[str] = []
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                errors += _validate(item, properties[key], schemas, f"{path}.{key}")
            elif extra is not None:
                errors += _validate(item, extra, schemas, f"{path}.{key}")
            else:
                errors.append(f"{path}.{key}: unknown property")
        return errors
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        return [e for i, item in enumerate(value) for e in _validate(item, schema["items"], schemas, f"{path}[{i}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {type(value).__name__}"]
        return _check_format(value, schema.get("format"), path)
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{path}: expected a boolean, got {type(value).__name__}"]
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return [f"{path}: expected an integer, got {type(value).__name__}"]
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return [f"{path}: expected a number, got {type(value).__name__}"]
    return []


def _check_format(value: str, fmt: str | None, path: str) -> list[str]:
    try:
        if fmt == "date-time":
            dt.datetime.fromisoformat(value)
        elif fmt == "date":
            dt.date.fromisoformat(value)
        elif fmt in {"int64", "uint64"}:
            int(value)
        elif fmt == "byte":
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return [f"{path}: {value!r} is not a valid {fmt}"]
    return []


def validate_query(query: dict[str, list[str]], method: dict[str, Any], api: str) -> list[str]:
    """Errors in the query string against the method's (and the API's global) parameters."""
    known = {**discovery(api)["parameters"], **method.get("parameters", {})}
    errors = []
    for name, values in query.items():
        spec = known.get(name)
        if spec is None or spec.get("location") == "path":
            errors.append(f"query parameter {name!r} is not a parameter of {method['id']}")
            continue
        if len(values) > 1 and not spec.get("repeated"):
            errors.append(f"query parameter {name!r} is not repeatable")
        for value in values:
            if spec.get("type") == "boolean" and value not in {"true", "false"}:
                errors.append(f"query parameter {name}={value!r} is not a boolean")
            if spec.get("type") == "integer" and not value.lstrip("-").isdigit():
                errors.append(f"query parameter {name}={value!r} is not an integer")
            if "enum" in spec and value not in spec["enum"]:
                errors.append(f"query parameter {name}={value!r} is not one of {spec['enum']}")
            if spec.get("format") == "date-time" and not _has_offset(value):
                errors.append(f"query parameter {name}={value!r} needs an RFC 3339 time with an offset")
    return errors


def _has_offset(value: str) -> bool:
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _documented_value_errors(event: dict[str, Any]) -> list[str]:
    errors = []
    for dotted, allowed in DOCUMENTED_VALUES.items():
        value: Any = event
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and value not in allowed:
            errors.append(f"Event.{dotted}: {value!r} is not one of {sorted(allowed)}")
    return errors


# --- state ----------------------------------------------------------------------------------


class ApiError(Exception):
    """A Google-style JSON error response."""

    def __init__(self, code: int, message: str, reason: str = "invalid", domain: str = "global"):
        super().__init__(message)
        self.code, self.message, self.reason, self.domain = code, message, reason, domain

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"domain": self.domain, "reason": self.reason, "message": self.message}],
            }
        }


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    user: str | None
    status: int = 0


@dataclass
class SentMail:
    """A message received by `users.messages.send`, decoded."""

    id: str
    user: str
    raw: bytes
    message: EmailMessage


@dataclass
class _Fault:
    status: int
    reason: str


@dataclass
class PeerState:
    calendars: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # calendar → id → event
    tokens: dict[str, str] = field(default_factory=dict)  # access token → acting user (JWT `sub`)
    token_scopes: list[str] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    mail: list[SentMail] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    non_workspace_users: set[str] = field(default_factory=set)
    directory_users: list[dict[str, Any]] = field(default_factory=list)  # Admin SDK users
    directory_admins: set[str] = field(default_factory=set)


def _parse_time(value: dict[str, Any], where: str) -> dt.datetime:
    """The instant of an EventDateTime (all-day dates count from midnight UTC)."""
    if value.get("dateTime"):
        moment = dt.datetime.fromisoformat(value["dateTime"])
        if moment.tzinfo is None:
            if not value.get("timeZone"):
                raise ApiError(400, f"{where}.dateTime needs an offset or a timeZone")
            moment = moment.replace(tzinfo=ZoneInfo(value["timeZone"]))
        return moment
    if value.get("date"):
        return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), dt.UTC)
    raise ApiError(400, f"Missing {where} time.", reason="required")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
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
            self.state.faults += [_Fault(status, reason or default_reason)] * count

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
        errors = validate_body(event, "Event", "calendar.v3") + _documented_value_errors(event)
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
        now = _now()
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


def _render(event: dict[str, Any], viewer: str) -> dict[str, Any]:
    """The event as the viewer sees it: `self` set on their attendee/organizer entries."""
    shown = copy.deepcopy(event)
    for person in [shown.get("creator"), shown.get("organizer"), *shown.get("attendees", [])]:
        if isinstance(person, dict) and person.get("email", "").lower() == viewer:
            person["self"] = True
    return shown


# --- HTTP ------------------------------------------------------------------------------------

EVENTS = re.compile(r"^/calendar/v3/calendars/(?P<calendar>[^/]+)/events(?:/(?P<event>[^/]+))?$")
GMAIL_SEND = re.compile(r"^/gmail/v1/users/(?P<user>[^/]+)/messages/send$")
DIRECTORY_USERS = "/admin/directory/v1/users"


def _handler_for(peer: GooglePeer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.peer = peer
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peer: GooglePeer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # the request log below is what tests read

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        if self.peer.latency:
            time.sleep(self.peer.latency)
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = RecordedRequest(self.command, path, query, None, None)
        peer = self.peer
        with peer._lock:
            peer.state.requests.append(record)
        try:
            if path == "/token":
                status, body = self._token(raw)
            else:
                record.body = json.loads(raw) if raw else None
                record.user = self._user()
                with peer._lock:
                    fault = peer.state.faults.pop(0) if peer.state.faults else None
                if fault is not None:
                    raise ApiError(fault.status, f"injected fault {fault.status}", fault.reason, "usageLimits")
                status, body = self._route(path, query, record.body, record.user)
        except ApiError as error:
            status, body = error.code, error.body()
        except json.JSONDecodeError as error:
            status, body = 400, ApiError(400, f"Parse Error: {error}", "parseError").body()
        record.status = status
        self._send(status, body)

    def _send(self, status: int, body: Any) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # OAuth2
    def _token(self, raw: bytes) -> tuple[int, Any]:
        form = parse_qs(raw.decode())
        if form.get("grant_type") != [JWT_BEARER] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type", "error_description": "expected a JWT bearer grant"}
        try:
            claims = json.loads(_b64(form["assertion"][0].split(".")[1]))
        except (IndexError, ValueError):
            return 400, {"error": "invalid_grant", "error_description": "assertion is not a JWT"}
        if not claims.get("sub"):
            return 401, {
                "error": "unauthorized_client",
                "error_description": "no `sub`: use Credentials.with_subject(user) (domain-wide delegation)",
            }
        token = f"ya29.peer-{next(self.peer._ids)}"
        with self.peer._lock:
            self.peer.state.tokens[token] = claims["sub"].lower()
            self.peer.state.token_scopes.append(claims.get("scope", ""))
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _user(self) -> str:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        with self.peer._lock:
            user = self.peer.state.tokens.get(token)
        if user is None:
            raise ApiError(401, "Request is missing a valid Bearer token.", "authError")
        return user

    def _route(self, path: str, query: dict[str, list[str]], body: Any, user: str) -> tuple[int, Any]:
        if match := EVENTS.match(path):
            calendar_id, event_id = unquote(match["calendar"]).lower(), match["event"]
            name = {
                ("GET", False): "list",
                ("POST", False): "insert",
                ("GET", True): "get",
                ("PUT", True): "update",
                ("PATCH", True): "patch",
                ("DELETE", True): "delete",
            }.get((self.command, event_id is not None))
            if name is None:
                raise ApiError(404, f"no {self.command} on {path}", "notFound")
            method = discovery("calendar.v3")["resources"]["events"]["methods"][name]
            self._check(validate_query(query, method, "calendar.v3"))
            calendar = _Calendar(self.peer, user, calendar_id)
            if name == "list":
                return 200, calendar.list(query)
            if name == "insert":
                return 200, calendar.insert(self._event_body(body))
            event_id = unquote(event_id or "")
            if name == "get":
                return 200, calendar.get(event_id)
            if name == "update":
                return 200, calendar.update(event_id, self._event_body(body))
            if name == "patch":
                return 200, calendar.patch(event_id, self._event_body(body))
            calendar.delete(event_id)
            return 204, None
        if (match := GMAIL_SEND.match(path)) and self.command == "POST":
            method = discovery("gmail.v1")["resources"]["users"]["resources"]["messages"]["methods"]["send"]
            self._check(validate_query(query, method, "gmail.v1"))
            self._check(validate_body(body, "Message", "gmail.v1"))
            return 200, self._send_mail(unquote(match["user"]).lower(), user, body)
        if path == DIRECTORY_USERS and self.command == "GET":
            method = discovery("admin.directory_v1")["resources"]["users"]["methods"]["list"]
            self._check(validate_query(query, method, "admin.directory_v1"))
            return 200, self._list_users(query, user)
        raise ApiError(404, f"Not Found: {self.command} {path}", "notFound")

    def _list_users(self, query: dict[str, list[str]], user: str) -> dict[str, Any]:
        """Admin SDK `users.list`: customer or domain required, pages of maxResults (≤ 500),
        custom schemas only with projection=full (or custom + customFieldMask)."""
        one = {k: v[-1] for k, v in query.items()}
        if "customer" not in one and "domain" not in one:
            raise ApiError(400, "Bad Request: either customer or domain is required", "badRequest")
        with self.peer._lock:
            if user not in self.peer.state.directory_admins:
                raise ApiError(403, "Not Authorized to access this resource/api", "forbidden")
            users = [copy.deepcopy(u) for u in self.peer.state.directory_users]
        page_size = min(int(one.get("maxResults", 100)), 500)
        offset = int(_b64(one["pageToken"]).decode()) if "pageToken" in one else 0
        projection = one.get("projection", "basic")
        for shown in users:
            if projection == "basic" or (projection == "custom" and "customFieldMask" not in one):
                shown.pop("customSchemas", None)
        users.sort(key=lambda u: u.get("primaryEmail", ""))
        result: dict[str, Any] = {"kind": "admin#directory#users", "users": users[offset : offset + page_size]}
        if offset + page_size < len(users):
            result["nextPageToken"] = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
        return result

    def _check(self, errors: list[str]) -> None:
        if errors:
            with self.peer._lock:
                self.peer.state.schema_errors.extend(errors)
            raise ApiError(400, "; ".join(errors), "invalid")

    def _event_body(self, body: Any) -> dict[str, Any]:
        errors = validate_body(body, "Event", "calendar.v3")
        if not errors:
            errors = _documented_value_errors(body)
            if "id" in body and not EVENT_ID.match(str(body["id"])):
                errors.append(f"Event.id: {body['id']!r} must be 5-1024 characters of base32hex (a-v, 0-9)")
        self._check(errors)
        return body

    def _send_mail(self, user_id: str, user: str, body: dict[str, Any]) -> dict[str, Any]:
        if user_id not in {"me", user}:
            raise ApiError(403, f"Delegation denied for {user}", "forbidden")
        if not body.get("raw"):
            raise ApiError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required")
        raw = _b64(body["raw"])
        message = BytesParser(policy=policy.default).parsebytes(raw)
        mail_id = f"{next(self.peer._ids):016x}"
        with self.peer._lock:
            self.peer.state.mail.append(SentMail(mail_id, user, raw, message))  # type: ignore[arg-type]
        return {"id": mail_id, "threadId": mail_id, "labelIds": ["SENT"]}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Calendar:
    """Calendar v3 events semantics for one acting user and calendar."""

    def __init__(self, peer: GooglePeer, user: str, calendar_id: str):
        self.peer, self.user, self.calendar_id = peer, user, calendar_id

    def _events(self) -> dict[str, dict[str, Any]]:
        return self.peer._calendar(self.user, self.calendar_id)

    def _check_semantics(self, event: dict[str, Any]) -> None:
        start = _parse_time(event.get("start") or {}, "start")
        end = _parse_time(event.get("end") or {}, "end")
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
            return _render(event, self.user)

    def get(self, event_id: str) -> dict[str, Any]:
        with self.peer._lock:
            return _render(self._found(event_id), self.user)

    def update(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.peer._lock:
            return self._replace(event_id, copy.deepcopy(body))

    def patch(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.peer._lock:
            merged = _merge(copy.deepcopy(self._found(event_id)), copy.deepcopy(body))
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
        return _render(event, self.user)

    def delete(self, event_id: str) -> None:
        with self.peer._lock:
            event = self._found(event_id)
            if event["status"] == "cancelled":
                raise ApiError(410, "Resource has been deleted", "deleted")
            event["status"] = "cancelled"
            event["sequence"] += 1
            event["updated"] = _now()

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
        offset = int(_b64(one["pageToken"]).decode()) if "pageToken" in one else 0
        with self.peer._lock:
            events = list(self._events().values())
        matching = []
        for event in events:
            if event["status"] == "cancelled" and not show_deleted:
                continue
            if types and event.get("eventType", "default") not in types:
                continue
            start, end = _parse_time(event["start"], "start"), _parse_time(event["end"], "end")
            if (time_min and end <= time_min) or (time_max and start >= time_max):
                continue
            matching.append((start, event["id"], event))
        matching.sort(key=lambda item: (item[0], item[1]))
        page = matching[offset : offset + page_size]
        result: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": self.user,
            "timeZone": "UTC",
            "updated": _now(),
            "items": [_render(event, self.user) for _, _, event in page],
        }
        if offset + page_size < len(matching):
            result["nextPageToken"] = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
        return result


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field, everything else is replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


# --- service-account keys and the fixture --------------------------------------------------


@lru_cache
def _private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account_info(token_uri: str) -> dict[str, str]:
    """A throwaway service-account key (fresh RSA key, once per process) whose tokens come from `token_uri`."""
    return {
        "type": "service_account",
        "project_id": "learningday-test",
        "private_key_id": "peer-key-1",
        "private_key": _private_key_pem(),
        "client_email": "learningday@learningday-test.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }


@pytest.fixture
def google_peer() -> Iterator[GooglePeer]:
    with GooglePeer() as peer:
        yield peer
