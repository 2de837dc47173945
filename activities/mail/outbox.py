"""The outbox: what we have sent, keyed by the email's idempotency key.

Neither SMTP nor the Gmail API has an idempotency key, so a mailer asks `already_sent` before
sending and calls `record_sent` right after. A crash between the two can repeat one message (with
the same Message-ID, see `message.message_id_for`); it can never lose one. Both functions work in
the caller's session and leave committing to it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from learningday import metrics
from learningday.contracts.mail import Email
from learningday.db.models import OutboxMessage, OutboxStatus


def already_sent(session: Session, key: str) -> OutboxMessage | None:
    """The outbox row for `key` if that email was sent; None if it still has to go out."""
    row = _find(session, key)
    if row is not None and row.status == OutboxStatus.sent:
        return row
    return None


def record_sent(session: Session, email: Email, channel: str, external_id: str | None) -> OutboxMessage:
    """Mark `email` sent on `channel` (e.g. "email"), creating its outbox row if needed.

    `external_id` is what the transport gave back (Gmail message id, SMTP Message-ID, Maildir key).
    Safe to call twice and when a concurrent sender inserted the same key first.
    """
    row = _find(session, email.key)
    if row is None:
        row = OutboxMessage(
            idempotency_key=email.key,
            channel=channel,
            recipient=", ".join(email.to)[:320],
            subject=email.subject[:500],
            body=email.text,
            attempts=0,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Someone else recorded the same key between our select and insert: update theirs.
            row = _find(session, email.key)
            if row is None:  # pragma: no cover - the unique key guarantees it exists now
                raise
    if row.status != OutboxStatus.sent:
        metrics.emails_sent.labels(channel).inc()
    row.status = OutboxStatus.sent
    row.external_id = external_id
    row.attempts = (row.attempts or 0) + 1
    row.sent_at = dt.datetime.now(dt.UTC)
    session.flush()
    return row


def _find(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()
