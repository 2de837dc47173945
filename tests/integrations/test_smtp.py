"""The SMTP mailer against a real SMTP server (aiosmtpd): what arrives, once, and how it fails."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.mail.message import message_id_for
from activities.mail.smtp import MailRejected, MailTemporarilyUnavailable, SmtpMailer
from learningday.contracts.mail import Email
from learningday.db.installation import installation_id
from learningday.db.models import OutboxMessage, OutboxStatus
from tests.mail.smtp_peer import (
    HOST,
    CollectingHandler,
    Credentials,
    SelfSigned,
    free_port,
    self_signed_certificate,
    smtp_server,
)

SENDER = "Learning Day <learning-day@example.com>"

pytestmark = pytest.mark.usefixtures("engine")


def flag_email(key: str = "flag:17:manager", to: tuple[str, ...] = ("maria@example.com",)) -> Email:
    return Email(
        key=key,
        to=list(to),
        cc=["hr@example.com"],
        subject="Bob: no summary on Thursday",
        text="Bob posted no summary.",
        html="<p>Bob posted <b>no</b> summary.</p>",
    )


def outbox_row(session: Session, key: str) -> OutboxMessage | None:
    session.expire_all()
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


@pytest.fixture
def certificate(tmp_path: Path) -> SelfSigned:
    return self_signed_certificate(tmp_path)


def test_plain_smtp_delivers_a_multipart_message_with_the_deterministic_message_id(session: Session) -> None:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        sent = SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email())

    expected_id = message_id_for("flag:17:manager", installation_id(session), SENDER)
    assert sent.message_id == expected_id
    assert expected_id.endswith("@example.com>")
    assert not sent.already_sent
    [received] = handler.received
    assert received.mail_from == "learning-day@example.com"
    assert received.rcpt_tos == ["maria@example.com", "hr@example.com"]
    message = received.message
    assert message["Subject"] == "Bob: no summary on Thursday"
    assert message["Message-ID"] == expected_id
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "Bob posted no summary."
    assert "<b>no</b>" in message.get_body(preferencelist=("html",)).get_content()
    row = outbox_row(session, "flag:17:manager")
    assert row is not None and row.status == OutboxStatus.sent and row.external_id == sent.message_id


def test_sending_the_same_key_twice_delivers_once_and_the_second_time_never_connects(session: Session) -> None:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        mailer = SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5)
        first = mailer.send(flag_email())
    # The server is gone now: a second send that tried to connect would raise.
    second = mailer.send(flag_email())

    assert len(handler.received) == 1
    assert second.already_sent and second.message_id == first.message_id
    assert outbox_row(session, "flag:17:manager").attempts == 1  # type: ignore[union-attr]


def test_starttls_with_the_relays_ca_delivers(certificate: SelfSigned) -> None:
    handler = CollectingHandler()
    with smtp_server(handler, tls_context=certificate.server_context(), require_starttls=True) as port:
        SmtpMailer(HOST, port, tls="starttls", sender=SENDER, timeout=5, ca_file=certificate.cert).send(flag_email())
    assert [r.message["Subject"] for r in handler.received] == ["Bob: no summary on Thursday"]


def test_starttls_against_an_unknown_certificate_is_refused_and_nothing_is_recorded(
    certificate: SelfSigned, session: Session
) -> None:
    handler = CollectingHandler()
    with smtp_server(handler, tls_context=certificate.server_context(), require_starttls=True) as port:
        with pytest.raises(MailTemporarilyUnavailable, match="certificate did not verify"):
            SmtpMailer(HOST, port, tls="starttls", sender=SENDER, timeout=5).send(flag_email())
    assert handler.received == []
    assert outbox_row(session, "flag:17:manager") is None


def test_starttls_without_verification_is_allowed_when_asked(certificate: SelfSigned) -> None:
    handler = CollectingHandler()
    with smtp_server(handler, tls_context=certificate.server_context(), require_starttls=True) as port:
        SmtpMailer(HOST, port, tls="starttls", sender=SENDER, timeout=5, verify=False).send(flag_email())
    assert len(handler.received) == 1


def test_implicit_tls_delivers(certificate: SelfSigned) -> None:
    handler = CollectingHandler()
    with smtp_server(handler, ssl_context=certificate.server_context()) as port:
        SmtpMailer(HOST, port, tls="tls", sender=SENDER, timeout=5, ca_file=certificate.cert).send(flag_email())
    assert len(handler.received) == 1


def test_login_over_starttls_delivers_with_the_right_password(certificate: SelfSigned) -> None:
    handler = CollectingHandler()
    options = dict(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=Credentials("relay-user", "s3cret"),
        auth_required=True,
    )
    with smtp_server(handler, **options) as port:
        SmtpMailer(
            HOST,
            port,
            tls="starttls",
            username="relay-user",
            password="s3cret",
            sender=SENDER,
            timeout=5,
            ca_file=certificate.cert,
        ).send(flag_email())
    assert len(handler.received) == 1


def test_a_wrong_password_is_retryable_names_the_settings_and_records_nothing(
    certificate: SelfSigned, session: Session
) -> None:
    handler = CollectingHandler()
    options = dict(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=Credentials("relay-user", "s3cret"),
        auth_required=True,
    )
    with smtp_server(handler, **options) as port:
        mailer = SmtpMailer(
            HOST,
            port,
            tls="starttls",
            username="relay-user",
            password="wrong",
            sender=SENDER,
            timeout=5,
            ca_file=certificate.cert,
        )
        with pytest.raises(MailTemporarilyUnavailable, match="LEARNINGDAY_SMTP_PASSWORD"):
            mailer.send(flag_email())
    assert handler.received == []
    assert outbox_row(session, "flag:17:manager") is None


def test_connection_refused_is_retryable_and_records_nothing_as_sent(session: Session) -> None:
    mailer = SmtpMailer(HOST, free_port(), tls="none", sender=SENDER, timeout=5)
    with pytest.raises(MailTemporarilyUnavailable, match="unreachable"):
        mailer.send(flag_email())
    assert outbox_row(session, "flag:17:manager") is None


def test_a_busy_relay_4xx_is_retryable_and_a_retry_delivers(session: Session) -> None:
    handler = CollectingHandler(data_reply="451 4.3.0 try again later")
    with smtp_server(handler) as port:
        mailer = SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5)
        with pytest.raises(MailTemporarilyUnavailable, match="451"):
            mailer.send(flag_email())
        assert outbox_row(session, "flag:17:manager") is None
        handler.data_reply = None
        assert not mailer.send(flag_email()).already_sent
    assert len(handler.received) == 1


def test_a_550_recipient_refusal_is_a_permanent_rejection(session: Session) -> None:
    handler = CollectingHandler(refuse={"nobody@example.com"})
    email = Email(key="claim:9:approver", to=["nobody@example.com"], subject="s", text="t", html="<p>t</p>")
    with smtp_server(handler) as port:
        with pytest.raises(MailRejected, match="refused every recipient") as raised:
            SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(email)
    assert raised.value.code == 550
    assert handler.received == []
    assert outbox_row(session, "claim:9:approver") is None


def test_a_deferred_recipient_among_refused_ones_makes_the_send_retryable(session: Session) -> None:
    handler = CollectingHandler(refuse={"maria@example.com"}, defer={"hr@example.com"})
    with smtp_server(handler) as port:
        with pytest.raises(MailTemporarilyUnavailable, match="450"):
            SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email())
    assert outbox_row(session, "flag:17:manager") is None


def test_a_554_on_the_message_itself_is_a_permanent_rejection(session: Session) -> None:
    handler = CollectingHandler(data_reply="554 5.7.1 message refused by policy")
    with smtp_server(handler) as port:
        with pytest.raises(MailRejected, match="554") as raised:
            SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email())
    assert raised.value.code == 554
    assert outbox_row(session, "flag:17:manager") is None


def test_one_refused_recipient_of_two_still_counts_as_sent(session: Session) -> None:
    handler = CollectingHandler(refuse={"hr@example.com"})
    with smtp_server(handler) as port:
        SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email())
    [received] = handler.received
    assert received.rcpt_tos == ["maria@example.com"]
    row = outbox_row(session, "flag:17:manager")
    assert row is not None and row.status == OutboxStatus.sent


def test_logs_name_the_outbox_key_never_an_address_or_the_body(caplog: pytest.LogCaptureFixture) -> None:
    handler = CollectingHandler(refuse={"hr@example.com"})
    with caplog.at_level(logging.DEBUG, logger="activities"):
        with smtp_server(handler) as port:
            SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("activities"))
    assert "flag:17:manager" in ours
    assert "@example.com" not in ours
    assert "summary" not in ours


def test_an_unknown_tls_mode_is_refused_with_the_setting_to_fix() -> None:
    with pytest.raises(ValueError, match="LEARNINGDAY_SMTP_TLS"):
        SmtpMailer(HOST, 25, tls="ssl")
