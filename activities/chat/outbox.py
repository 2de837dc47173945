"""The outbox rows behind every chat message: at most one message per idempotency key.

A send first *claims* its key (a `pending` row, committed before anything leaves the
process), then records the message id once the other side confirmed it. A claim that finds a
`pending` row knows an earlier attempt may have posted and lost the answer, and looks before
posting again; one that finds `sent` returns the recorded message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from learningday.db.models import OutboxMessage, OutboxStatus

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Claim:
    state: Literal["new", "retry", "sent"]  # new: no earlier attempt got as far as sending
    recipient: str
    external_id: str | None
    claimed_at: dt.datetime  # when the first attempt claimed the key (UTC)


def claim(
    session_factory: SessionFactory,
    *,
    key: str,
    channel: str,
    recipient: str,
    body: str,
    subject: str | None = None,
) -> Claim:
    try:
        with session_factory() as session:
            row = _find(session, key)
            if row is None:
                row = OutboxMessage(
                    idempotency_key=key,
                    channel=channel,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    status=OutboxStatus.pending,
                    attempts=1,
                    created_at=dt.datetime.now(dt.UTC),
                )
                session.add(row)
                session.flush()
                return Claim("new", recipient, None, row.created_at)
            return _existing(row)
    except IntegrityError:
        # Another attempt inserted the same key between our read and our insert.
        with session_factory() as session:
            row = _find(session, key)
            assert row is not None, f"outbox key {key!r} vanished after a unique-key conflict"
            return _existing(row)


def record_sent(session_factory: SessionFactory, *, key: str, recipient: str, external_id: str) -> None:
    with session_factory() as session:
        row = _find(session, key)
        if row is None:
            raise LookupError(f"outbox key {key!r} was never claimed; claim() it before sending")
        row.status = OutboxStatus.sent
        row.recipient = recipient
        row.external_id = external_id
        row.sent_at = dt.datetime.now(dt.UTC)


def _existing(row: OutboxMessage) -> Claim:
    claimed_at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    if row.status == OutboxStatus.sent:
        return Claim("sent", row.recipient, row.external_id, claimed_at)
    row.attempts += 1
    return Claim("retry", row.recipient, row.external_id, claimed_at)


def _find(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()
