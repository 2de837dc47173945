"""The local outbox pages: where the embedded default's "sent" emails can be read.

With no SMTP relay configured, the Maildir mailer writes every email into `<data_dir>/outbox`;
these pages list it (newest first) and show one message, HTML in a sandboxed iframe (no scripts,
no same-origin access) as tall as the email (`email_frame`) and linked on its own, next to its
plain-text part. They read the Maildir only: what is shown is exactly what would have gone out.
Admins only: the outbox holds everyone's mail, sign-in links included.

The frame loads the HTML from its own URL, under a policy of its own (`EMAIL_FRAME_HEADERS`:
inline styles and nothing else). As `srcdoc` it would inherit the page's strict policy, which
drops every inline style the email carries (mail clients need them).
"""

from __future__ import annotations

import datetime as dt
import mailbox
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from learningday.settings import Settings, get_settings
from learningday.web.access import Viewer
from learningday.web.auth import signed_in_admin
from learningday.web.email_frame import frame_height
from learningday.web.headers import EMAIL_FRAME_HEADERS
from learningday.web.render import render

router = APIRouter()

LIST_LIMIT = 500  # a local outbox; beyond this the page would be unreadable anyway


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    date: dt.datetime | None
    to: str
    subject: str


@router.get("/outbox", response_class=HTMLResponse)
def outbox_list(request: Request, viewer: Viewer = Depends(signed_in_admin)) -> Response:
    maildir_path = _maildir_path(request)
    entries = sorted(_entries(maildir_path), key=_sort_key, reverse=True)[:LIST_LIMIT]
    return render(request, "outbox.html", {"entries": entries, "path": maildir_path, "limit": LIST_LIMIT}, viewer)


@router.get("/outbox/{key}", response_class=HTMLResponse)
def outbox_message(request: Request, key: str, viewer: Viewer = Depends(signed_in_admin)) -> Response:
    maildir_path = _maildir_path(request)
    message = _read(maildir_path, key)
    if message is None:
        raise HTTPException(status_code=404, detail=f"no message {key!r} in the outbox at {maildir_path}")
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    return render(
        request,
        "outbox_message.html",
        {
            "key": key,
            "date": _date(message),
            "sender": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "cc": str(message.get("Cc", "")),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "html": html_part is not None,
            "frame_height": frame_height(html_part.get_content()) if html_part is not None else None,
            "text": text_part.get_content() if text_part is not None else None,
        },
        viewer,
    )


@router.get("/outbox/{key}/html")
def outbox_message_html(request: Request, key: str, _: Viewer = Depends(signed_in_admin)) -> Response:
    """The message's HTML part as sent, for the page's sandboxed frame."""
    maildir_path = _maildir_path(request)
    message = _read(maildir_path, key)
    html_part = message.get_body(preferencelist=("html",)) if message is not None else None
    if html_part is None:
        raise HTTPException(status_code=404, detail=f"no HTML part of message {key!r} in the outbox at {maildir_path}")
    return HTMLResponse(html_part.get_content(), headers=EMAIL_FRAME_HEADERS)


def _maildir_path(request: Request) -> Path:
    # The app carries its settings; a bare router (tests, other apps) falls back to the environment.
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    return settings.maildir_path


def _entries(path: Path) -> list[OutboxEntry]:
    if not path.is_dir():
        return []
    maildir = mailbox.Maildir(path, create=False)
    parser = BytesParser(policy=policy.default)
    entries = []
    for key in maildir.keys():
        with maildir.get_file(key) as handle:
            headers = parser.parse(handle, headersonly=True)  # type: ignore[arg-type]  # it reads; typeshed also asks for name and write()
        entries.append(
            OutboxEntry(
                key=key,
                date=_date(headers),
                to=str(headers.get("To", "")),
                subject=str(headers.get("Subject", "")),
            )
        )
    return entries


def _read(path: Path, key: str) -> EmailMessage | None:
    if not path.is_dir():
        return None
    try:
        raw = mailbox.Maildir(path, create=False).get_bytes(key)
    except KeyError:
        return None
    return BytesParser(policy=policy.default).parsebytes(raw)


def _date(message: EmailMessage) -> dt.datetime | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


def _sort_key(entry: OutboxEntry) -> tuple[float, str]:
    # Newest first with reverse=True; a message without a readable Date sorts last. The key (it
    # starts with the delivery second) only makes the order stable within one second.
    stamp = entry.date.timestamp() if entry.date and entry.date.tzinfo else 0.0
    return (stamp, entry.key)
