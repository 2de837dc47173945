"""The mail port: one multipart message, sent at most once per idempotency key.

The activities' emails and the web's sign-in link are both an `Email` to a `Mailer`; the mailers
themselves (SMTP, Gmail, a local Maildir) are in activities/mail/, and the web is handed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Email:
    key: str  # the outbox idempotency key, e.g. "flag:<flag id>:<recipient>"
    to: list[str]
    subject: str
    text: str
    html: str
    cc: list[str] = field(default_factory=list)
    reply_to: str | None = None


@dataclass(frozen=True)
class Sent:
    message_id: str
    already_sent: bool = False


class Mailer(Protocol):
    def send(self, email: Email) -> Sent: ...
