"""The HTTP side: the OAuth2 token endpoint and the routes of Calendar v3, Gmail send and the
Directory API's users.list, each checked against its discovery document."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.peers.google.calendar import EVENT_ID, CalendarEvents
from tests.peers.google.schema import discovery, documented_value_errors, validate_body, validate_query
from tests.peers.google.state import ApiError, RecordedRequest, SentMail, b64url_decode

if TYPE_CHECKING:
    from tests.peers.google.peer import GooglePeer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

EVENTS = re.compile(r"^/calendar/v3/calendars/(?P<calendar>[^/]+)/events(?:/(?P<event>[^/]+))?$")
GMAIL_SEND = re.compile(r"^/gmail/v1/users/(?P<user>[^/]+)/messages/send$")
DIRECTORY_USERS = "/admin/directory/v1/users"


def handler_for(peer: GooglePeer) -> type[BaseHTTPRequestHandler]:
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
            claims = json.loads(b64url_decode(form["assertion"][0].split(".")[1]))
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
            calendar = CalendarEvents(self.peer, user, calendar_id)
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
        offset = int(b64url_decode(one["pageToken"]).decode()) if "pageToken" in one else 0
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
            errors = documented_value_errors(body)
            if "id" in body and not EVENT_ID.match(str(body["id"])):
                errors.append(f"Event.id: {body['id']!r} must be 5-1024 characters of base32hex (a-v, 0-9)")
        self._check(errors)
        return body

    def _send_mail(self, user_id: str, user: str, body: dict[str, Any]) -> dict[str, Any]:
        if user_id not in {"me", user}:
            raise ApiError(403, f"Delegation denied for {user}", "forbidden")
        if not body.get("raw"):
            raise ApiError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required")
        raw = b64url_decode(body["raw"])
        message = BytesParser(policy=policy.default).parsebytes(raw)
        mail_id = f"{next(self.peer._ids):016x}"
        with self.peer._lock:
            self.peer.state.mail.append(SentMail(mail_id, user, raw, message))  # type: ignore[arg-type]
        return {"id": mail_id, "threadId": mail_id, "labelIds": ["SENT"]}
