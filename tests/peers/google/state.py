"""What the peer remembers (calendars, tokens, requests, mail, injected faults) and the
Google-style error every route raises."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo


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
class Fault:
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
    faults: list[Fault] = field(default_factory=list)
    non_workspace_users: set[str] = field(default_factory=set)
    directory_users: list[dict[str, Any]] = field(default_factory=list)  # Admin SDK users
    directory_admins: set[str] = field(default_factory=set)


def parse_time(value: dict[str, Any], where: str) -> dt.datetime:
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


def now_stamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
