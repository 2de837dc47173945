"""GmailMailer through the real googleapiclient against the local Google peer, with the outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.mail.gmail import GmailMailer
from activities.mail.message import message_id_for
from activities.mail.smtp import MailTemporarilyUnavailable
from learningday.contracts.mail import Email
from learningday.db.installation import installation_id
from learningday.db.models import OutboxMessage, OutboxStatus
from learningday.settings import Settings
from tests.integrations.google_fixtures import backoffs, key_file, peer  # noqa: F401
from tests.peers.google import GooglePeer

SENDER = "learning-day@example.com"


@pytest.fixture
def mailer(engine: Engine, key_file: Path, peer: GooglePeer, backoffs: list[float]) -> GmailMailer:
    return GmailMailer(
        SENDER, key_file, api_endpoint=peer.url, from_header=f"Learning Day <{SENDER}>", num_retries=2, timeout=5
    )


def flag_email(key: str = "flag:42:boss@example.com") -> Email:
    return Email(
        key=key,
        to=["boss@example.com"],
        cc=["ada@example.com"],
        subject="Ada missed her Learning Day plan",
        text="Ada did not post a plan on Thursday.",
        html="<p>Ada did not post a plan on <b>Thursday</b>.</p>",
    )


def outbox_row(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def test_email_arrives_with_text_and_html_parts_and_its_message_id(
    mailer: GmailMailer, peer: GooglePeer, session: Session
) -> None:
    sent = mailer.send(flag_email())

    [mail] = peer.mail
    message = mail.message
    assert mail.user == SENDER
    expected_id = message_id_for("flag:42:boss@example.com", installation_id(session), SENDER)
    assert message["Message-ID"] == sent.message_id == expected_id
    assert message["To"] == "boss@example.com"
    assert message["Cc"] == "ada@example.com"
    assert message["From"] == f"Learning Day <{SENDER}>"
    assert message["Subject"] == "Ada missed her Learning Day plan"
    assert message.get_content_type() == "multipart/alternative"
    assert [(p.get_content_type(), p.get_content().strip()) for p in message.iter_parts()] == [
        ("text/plain", "Ada did not post a plan on Thursday."),
        ("text/html", "<p>Ada did not post a plan on <b>Thursday</b>.</p>"),
    ]
    row = outbox_row(session, "flag:42:boss@example.com")
    assert row is not None
    assert (row.status, row.external_id, row.channel) == (OutboxStatus.sent, mail.id, "email")


def test_second_send_with_the_same_key_sends_nothing(mailer: GmailMailer, peer: GooglePeer, session: Session) -> None:
    first = mailer.send(flag_email())
    calls = len(peer.requests)

    again = mailer.send(flag_email())

    assert again.already_sent is True
    assert (
        again.message_id
        == first.message_id
        == message_id_for("flag:42:boss@example.com", installation_id(session), SENDER)
    )
    assert len(peer.mail) == 1
    assert len(peer.requests) == calls


def test_rate_limited_send_is_retried_and_sent_once(
    mailer: GmailMailer, peer: GooglePeer, backoffs: list[float]
) -> None:
    peer.fail_next(1, status=429)

    mailer.send(flag_email())

    assert [r.status for r in peer.api_requests()] == [429, 200]
    assert len(backoffs) == 1
    assert len(peer.mail) == 1


def test_outage_is_a_temporary_failure_and_the_email_goes_out_on_the_next_attempt(
    mailer: GmailMailer, peer: GooglePeer, session: Session
) -> None:
    peer.fail_next(3, status=500)

    with pytest.raises(MailTemporarilyUnavailable, match="Gmail answered 500 for email flag:42"):
        mailer.send(flag_email())
    assert outbox_row(session, "flag:42:boss@example.com") is None

    sent = mailer.send(flag_email())

    assert sent.already_sent is False
    assert len(peer.mail) == 1


def test_gmail_backend_without_a_sender_says_which_setting_is_missing(key_file: Path) -> None:
    settings = Settings(mail_backend="gmail", google_service_account_file=key_file)

    with pytest.raises(ValueError, match="LEARNINGDAY_GMAIL_SENDER"):
        GmailMailer.from_settings(settings)


def test_from_settings_uses_the_display_name_only_for_the_sending_account(key_file: Path) -> None:
    common = dict(mail_backend="gmail", google_service_account_file=key_file, gmail_sender=SENDER)
    named = Settings(**common, mail_from=f"Learning Day <{SENDER}>")
    other = Settings(**common, mail_from="Learning Day <noreply@elsewhere.example>")

    assert GmailMailer.from_settings(named).from_header == f"Learning Day <{SENDER}>"
    assert GmailMailer.from_settings(other).from_header == SENDER
