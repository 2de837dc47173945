"""The local Maildir mailer: each email written once, readable by any mail client."""

from __future__ import annotations

import mailbox
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.mail.maildir import MaildirMailer
from activities.mail.message import message_id_for
from learningday.contracts.mail import Email
from learningday.db.installation import installation_id
from learningday.db.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.usefixtures("engine")


def digest_email(key: str = "digest:2026-11-16:maria") -> Email:
    return Email(
        key=key,
        to=["maria@example.com"],
        subject="Your team's Learning Day, week of 16 Nov",
        text="Bob kept his Learning Day.",
        html="<p>Bob kept his Learning Day.</p>",
    )


def test_a_message_is_written_into_new_with_both_parts_and_the_deterministic_message_id(
    tmp_path: Path, session: Session
) -> None:
    outbox = tmp_path / "outbox"  # does not exist yet: the mailer creates it
    sender = "Learning Day <ld@example.com>"
    sent = MaildirMailer(outbox, sender=sender).send(digest_email())

    assert sent.message_id == message_id_for("digest:2026-11-16:maria", installation_id(session), sender)
    [key] = mailbox.Maildir(outbox, create=False).keys()
    assert (outbox / "new" / key).is_file()
    message = BytesParser(policy=policy.default).parsebytes(mailbox.Maildir(outbox).get_bytes(key))
    assert message["To"] == "maria@example.com"
    assert message["From"] == "Learning Day <ld@example.com>"
    assert message["Message-ID"] == sent.message_id
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "Bob kept his Learning Day."
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>Bob kept his Learning Day.</p>"


def test_the_same_key_is_written_once_and_the_outbox_row_holds_the_maildir_key(
    tmp_path: Path, session: Session
) -> None:
    mailer = MaildirMailer(tmp_path / "outbox")
    first = mailer.send(digest_email())
    second = mailer.send(digest_email())

    keys = mailbox.Maildir(tmp_path / "outbox", create=False).keys()
    assert len(keys) == 1
    assert not first.already_sent and second.already_sent
    assert second.message_id == first.message_id
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == "digest:2026-11-16:maria")).one()
    assert row.status == OutboxStatus.sent and row.channel == "email" and row.external_id == keys[0]


def test_different_keys_are_different_messages(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path / "outbox")
    mailer.send(digest_email("digest:2026-11-16:maria"))
    mailer.send(digest_email("digest:2026-11-16:omar"))
    assert len(mailbox.Maildir(tmp_path / "outbox", create=False)) == 2


def test_an_unwritable_outbox_names_the_path_and_what_to_do(tmp_path: Path, session: Session) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the outbox should be")
    with pytest.raises(OSError, match="LEARNINGDAY_DATA_DIR") as raised:
        MaildirMailer(blocker / "outbox").send(digest_email())
    assert str(blocker / "outbox") in str(raised.value)
    assert session.scalars(select(OutboxMessage)).first() is None
