"""A local Slack Web API peer: the real slack_sdk clients talk to it over HTTP in tests.

It speaks the wire protocol as slack_sdk uses it (POST /api/<method>, form, query or JSON
arguments, `Authorization: Bearer xoxb-…`, `{"ok": false, "error": …}` answers) and keeps what
Slack would keep: messages per channel with strictly increasing `ts`, message metadata,
threads, modals, each person's Home tab. It enforces the limits we must respect (about one message per second per
channel beyond a short burst, Block Kit sizes, three-second trigger ids) and lets a test
inject faults: the next N calls of a method answer 429 or 500, or the connection drops after
the message was stored (the "posted, but the response was lost" case).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import pytest

BOT_TOKEN = "xoxb-test-token"
BOT_USER_ID = "UBOT00001"
BOT_ID = "BBOT00001"
TEAM_ID = "TTEAM0001"

Fault = Literal["rate_limited", "server_error", "drop_after_store"]

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_HOME_BLOCKS = 100
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_MODAL_TITLE = 24
MAX_BUTTON_TEXT = 75
TRIGGER_LIFETIME_SECONDS = 3.0


@dataclass
class StoredMessage:
    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    metadata: dict[str, Any] | None
    arrived_at: float  # time.monotonic() when accepted

    def as_api(self, include_metadata: bool) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": self.text or "",
            "ts": self.ts,
        }
        if self.blocks is not None:
            message["blocks"] = self.blocks
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if include_metadata and self.metadata is not None:
            message["metadata"] = self.metadata
        return message


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int
    error: str | None
    at: float


@dataclass
class _Bucket:
    tokens: float
    updated: float


class SlackApiError(Exception):
    """An `{"ok": false}` answer; HTTP 200 like Slack's own unless `status` says otherwise."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


@dataclass
class SlackPeer:
    token: str = BOT_TOKEN
    messages_per_second: float = 1.0
    burst: int = 3
    host: str = "127.0.0.1"
    latency: float = 0.0  # seconds added to every answer, like a round trip to Slack (bench/)

    messages: dict[str, list[StoredMessage]] = field(default_factory=dict)
    ephemeral: list[dict[str, Any]] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    home_tabs: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id → the view last published
    calls: list[Call] = field(default_factory=list)
    rate_limited: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._users: dict[str, str] = {}  # email → user id
        self._channels: dict[str, str] = {}  # public channel name → id
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self._buckets: dict[str, _Bucket] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._triggers: dict[str, float] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> SlackPeer:
        peer = self

        class Handler(_Handler):
            slack = peer

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackPeer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the peer first"
        return f"http://{self.host}:{self._server.server_address[1]}/api/"

    # -- test set-up ------------------------------------------------------------------------

    def add_user(self, email: str, user_id: str | None = None) -> str:
        with self._lock:
            user_id = user_id or f"U{next(self._ids):08d}"
            self._users[email.lower()] = user_id
            return user_id

    def add_channel(self, name: str) -> str:
        with self._lock:
            name = name.lstrip("#")
            if name not in self._channels:
                self._channels[name] = f"C{next(self._ids):08d}"
            return self._channels[name]

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]

    def new_trigger_id(self) -> str:
        """What Slack puts in an interaction payload: usable by views.open for 3 seconds."""
        with self._lock:
            trigger = f"{next(self._ids)}.{TEAM_ID}.{time.time_ns():x}"
            self._triggers[trigger] = time.monotonic()
            return trigger

    def fail_next(self, method: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(method, []).extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- assertions -------------------------------------------------------------------------

    def channel_messages(self, channel: str) -> list[StoredMessage]:
        """Every accepted message of a channel (id, `#name` or user id), in arrival order."""
        with self._lock:
            return list(self.messages.get(self._resolve(channel), []))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate()` holds (re-checked after every call the peer answers)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # -- the API ----------------------------------------------------------------------------

    def handle(
        self, method: str, args: dict[str, Any], auth: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str], bool]:
        """(status, body, headers, drop_connection) for one call; records it."""
        if self.latency:
            time.sleep(self.latency)  # outside the lock: concurrent calls wait in parallel
        with self._changed:
            status, body, headers, drop = self._handle(method, args, auth)
            self.calls.append(Call(method, args, status, body.get("error"), time.monotonic()))
            self._changed.notify_all()
            return status, body, headers, drop

    def _handle(
        self, method: str, args: dict[str, Any], auth: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str], bool]:
        if not auth:
            return 200, {"ok": False, "error": "not_authed"}, {}, False
        if auth != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}, False
        fault = self._faults.get(method, [None]).pop(0) if self._faults.get(method) else None
        if fault == "rate_limited":
            self.rate_limited.append((method, time.monotonic()))
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}, False
        if fault == "server_error":
            return 500, {"ok": False, "error": "internal_error"}, {}, False
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}, False
        try:
            result = handler(args)
        except SlackApiError as error:
            headers = {"Retry-After": "1"} if error.status == 429 else {}
            return error.status, {"ok": False, "error": error.error, **error.extra}, headers, False
        return 200, {"ok": True, **result}, {}, fault == "drop_after_store"

    def _resolve(self, channel: str) -> str:
        if channel.startswith("#"):
            if channel[1:] not in self._channels:
                raise SlackApiError("channel_not_found")
            return self._channels[channel[1:]]
        if channel.startswith(("U", "W")):  # posting to a user id means their DM with the app
            return self.dm_channel(channel)
        return channel

    def _known_channel(self, channel: str | None) -> str:
        if not channel:
            raise SlackApiError("channel_not_found")
        resolved = self._resolve(channel)
        known = resolved in self._channels.values() or (
            resolved.startswith("D") and "U" + resolved[1:] in self._users.values()
        )
        if not known:
            raise SlackApiError("channel_not_found")
        return resolved

    def _next_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _take_rate_token(self, channel: str) -> None:
        now = time.monotonic()
        bucket = self._buckets.setdefault(channel, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.messages_per_second)
        bucket.updated = now
        if bucket.tokens < 1.0:
            self.rate_limited.append((channel, now))
            raise SlackApiError("ratelimited", status=429)
        bucket.tokens -= 1.0

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://peer.slack.test/",
            "team": "Peer",
            "user": "learningday",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _api_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        if email not in self._users:
            raise SlackApiError("users_not_found")
        user_id = self._users[email]
        return {"user": {"id": user_id, "team_id": TEAM_ID, "profile": {"email": email}}}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or users[0] not in self._users.values():
            raise SlackApiError("user_not_found")
        return {"channel": {"id": self.dm_channel(users[0])}}

    def _api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [{"id": cid, "name": name, "is_channel": True} for name, cid in self._channels.items()]
        return _page(channels, args, "channels")

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._known_channel(args.get("channel"))
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks:
            raise SlackApiError("no_text")
        if blocks is not None:
            _check_blocks(blocks, MAX_MESSAGE_BLOCKS)
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and metadata.get("event_type")
            and isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackApiError("invalid_metadata_format")
        thread_ts = args.get("thread_ts") or None
        if thread_ts and not any(m.ts == thread_ts for m in self.messages.get(channel, [])):
            raise SlackApiError("thread_not_found")
        self._take_rate_token(channel)
        message = StoredMessage(channel, self._next_ts(), text, blocks, thread_ts, metadata, time.monotonic())
        self.messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": message.ts, "message": message.as_api(include_metadata=True)}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._known_channel(args.get("channel"))
        if not args.get("user"):
            raise SlackApiError("user_not_in_channel")
        if not args.get("text") and not args.get("blocks"):
            raise SlackApiError("no_text")
        self.ephemeral.append(
            {"channel": channel, "user": args["user"], "text": args.get("text"), "blocks": args.get("blocks")}
        )
        return {"message_ts": self._next_ts()}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._known_channel(args.get("channel"))
        for message in self.messages.get(channel, []):
            if message.ts == args.get("ts"):
                if args.get("blocks") is not None:
                    _check_blocks(args["blocks"], MAX_MESSAGE_BLOCKS)
                    message.blocks = args["blocks"]
                if args.get("text") is not None:
                    message.text = args["text"]
                return {"channel": channel, "ts": message.ts, "text": message.text}
        raise SlackApiError("message_not_found")

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("channel", "")).startswith("#"):
            raise SlackApiError("channel_not_found")  # history wants an id, not a name
        channel = self._known_channel(args.get("channel"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or time.time() + 1)
        metadata = _truthy(args.get("include_all_metadata"))
        top_level = [m for m in self.messages.get(channel, []) if not m.thread_ts or m.thread_ts == m.ts]
        found = [m.as_api(metadata) for m in reversed(top_level) if oldest < float(m.ts) < latest]
        return _page(found, args, "messages")

    def _api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._known_channel(args.get("channel"))
        parent = args.get("ts")
        thread = [m for m in self.messages.get(channel, []) if m.ts == parent or m.thread_ts == parent]
        if not thread:
            raise SlackApiError("thread_not_found")
        return _page([m.as_api(_truthy(args.get("include_all_metadata"))) for m in thread], args, "messages")

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id")
        if not trigger:
            raise SlackApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]}
            )
        issued = self._triggers.pop(trigger, None)
        if issued is None:
            raise SlackApiError("invalid_trigger_id")
        if time.monotonic() - issued > TRIGGER_LIFETIME_SECONDS:
            raise SlackApiError("expired_trigger_id")
        return {"view": self._store_view(f"V{next(self._ids):08d}", args.get("view"))}

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id not in self.views:
            raise SlackApiError("not_found")
        return {"view": self._store_view(view_id, args.get("view"))}

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """A person's Home tab: each publish replaces the last one (the view keeps its id)."""
        user_id = args.get("user_id")
        if user_id not in self._users.values():
            raise SlackApiError("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]})
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] view.type must be home"]})
        _check_blocks(view.get("blocks") or [], MAX_HOME_BLOCKS)
        view_id = self.home_tabs.get(user_id, {}).get("id") or f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "team_id": TEAM_ID}
        self.home_tabs[user_id] = stored
        return {"view": stored}

    def _store_view(self, view_id: str, view: Any) -> dict[str, Any]:
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view.type must be modal"]}
            )
        title = (view.get("title") or {}).get("text", "")
        if not title or len(title) > MAX_MODAL_TITLE:
            raise SlackApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": [
                        f"[ERROR] must be less than {MAX_MODAL_TITLE + 1} characters [json-pointer:/view/title/text]"
                    ]
                },
            )
        _check_blocks(view.get("blocks") or [], MAX_MODAL_BLOCKS)
        stored = {**view, "id": view_id, "team_id": TEAM_ID}
        self.views[view_id] = stored
        return stored


class _Handler(BaseHTTPRequestHandler):
    slack: SlackPeer

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if not url.path.startswith("/api/"):
            self.send_error(404)
            return
        args: dict[str, Any] = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if raw and content_type.startswith("application/json"):
            args.update(json.loads(raw))
        elif raw:
            args.update(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        for key in ("blocks", "metadata", "view"):  # form bodies carry these as JSON strings
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except json.JSONDecodeError:
                    pass
        status, body, headers, drop = self.slack.handle(
            url.path[len("/api/") :], args, self.headers.get("Authorization")
        )
        if drop:
            # The work is done but the answer never arrives: close without a response.
            self.close_connection = True
            return
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _page(items: list[dict[str, Any]], args: dict[str, Any], key: str) -> dict[str, Any]:
    start = int(args.get("cursor") or 0)
    limit = min(int(args.get("limit") or 100), 999)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return {key: chunk, "has_more": more, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


def _check_blocks(blocks: Any, max_blocks: int) -> None:
    def invalid(reason: str) -> SlackApiError:
        return SlackApiError("invalid_blocks", response_metadata={"messages": [f"[ERROR] {reason}"]})

    if not isinstance(blocks, list):
        raise invalid("blocks must be a list")
    if len(blocks) > max_blocks:
        raise invalid(f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        if block.get("type") == "section":
            text = (block.get("text") or {}).get("text", "")
            if len(text) > MAX_SECTION_TEXT:
                raise invalid(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/{index}/text/text]"
                )
            if "text" in block and not text:
                raise invalid(f"must be more than 0 characters [json-pointer:/blocks/{index}/text/text]")
        if block.get("type") == "header":
            text = block.get("text") or {}
            if text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) <= MAX_HEADER_TEXT:
                raise invalid(
                    f"header text must be plain_text of 1 to {MAX_HEADER_TEXT} characters [json-pointer:/blocks/{index}/text]"
                )
        for element in block.get("elements") or []:
            if element.get("type") == "button" and len(element["text"]["text"]) > MAX_BUTTON_TEXT:
                raise invalid(f"button text too long [json-pointer:/blocks/{index}]")


@contextmanager
def running_slack_peer(**options: Any) -> Iterator[SlackPeer]:
    with SlackPeer(**options) as peer:
        yield peer


@pytest.fixture
def slack_peer() -> Iterator[SlackPeer]:
    with running_slack_peer() as peer:
        yield peer
