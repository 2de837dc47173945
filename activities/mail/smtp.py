"""The SMTP mailer: any relay the company already runs (Postfix, SES, Mailgun, Google's relay).

SMTP has no idempotency key, so exactly-once rests on the outbox: a key already recorded as sent
is answered without connecting, and a send is recorded right after the server accepts it. A crash
between the two repeats one message carrying the same deterministic Message-ID (made of this
installation's id and the outbox key, so recognisable downstream); nothing is ever lost.

Failures come out as two exceptions the activity layer can tell apart: `MailTemporarilyUnavailable`
(retry later: the relay is down, busy, or says 4xx) and `MailRejected` (a 5xx that will not change
by retrying, e.g. an unknown recipient). Addresses and bodies never reach the logs; the outbox key
does.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from activities.mail.message import build_message, message_id_for
from activities.mail.outbox import already_sent, record_sent
from learningday.contracts.mail import Email, Sent
from learningday.db.engine import session_scope
from learningday.db.installation import installation_id

log = logging.getLogger(__name__)

TlsMode = Literal["starttls", "tls", "none"]
TLS_MODES: tuple[str, ...] = ("starttls", "tls", "none")
CHANNEL = "email"

SessionFactory = Callable[[], AbstractContextManager[Session]]


class MailError(Exception):
    """Base for what a mailer raises; the message says what happened and what to do."""


class MailTemporarilyUnavailable(MailError):
    """The relay could not take the message now (refused, timed out, 4xx): retry later."""


class MailRejected(MailError):
    """The relay refused the message for good (5xx): retrying will not help, a person must act."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SmtpMailer:
    """Sends each `Email` once through an SMTP relay (`Mailer` port)."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        tls: TlsMode | str = "starttls",
        username: str | None = None,
        password: str | None = None,
        sender: str = "Learning Day <learning-day@localhost>",
        timeout: float = 30.0,
        *,
        ca_file: Path | str | None = None,
        verify: bool = True,
        sessions: SessionFactory = session_scope,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(
                f"SMTP tls mode {tls!r} is not one of {', '.join(TLS_MODES)}: "
                "set LEARNINGDAY_SMTP_TLS to starttls (port 587), tls (port 465) or none (local relay)"
            )
        if bool(username) != bool(password):
            raise ValueError(
                "SMTP login needs both a username and a password: set both LEARNINGDAY_SMTP_USERNAME "
                "and LEARNINGDAY_SMTP_PASSWORD, or neither for an unauthenticated relay"
            )
        self.host = host
        self.port = port
        self.tls: str = tls
        self.username = username
        self._password = password
        self.sender = sender
        self.timeout = timeout
        self.ca_file = Path(ca_file) if ca_file else None
        self.verify = verify
        self._sessions = sessions

    def send(self, email: Email) -> Sent:
        with self._sessions() as session:
            install_id = installation_id(session)
            message_id = message_id_for(email.key, install_id, self.sender)
            if already_sent(session, email.key) is not None:
                log.info("email %s already sent; not sending again", email.key)
                return Sent(message_id=message_id, already_sent=True)

        message = build_message(email, self.sender, install_id)
        self._deliver(email.key, message, [*email.to, *email.cc])

        with self._sessions() as session:
            record_sent(session, email, CHANNEL, message_id)
        log.info("email %s sent via SMTP %s:%s", email.key, self.host, self.port)
        return Sent(message_id=message_id)

    def _deliver(self, key: str, message: EmailMessage, recipients: list[str]) -> None:
        where = f"SMTP {self.host}:{self.port}"
        try:
            with self._connect() as client:
                if self.tls == "starttls":
                    client.starttls(context=self._ssl_context())
                if self.username and self._password:
                    client.login(self.username, self._password)
                refused = client.send_message(message, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as error:
            # Every recipient refused: nothing was delivered. Any 4xx among them may pass later.
            codes = sorted({code for code, _ in error.recipients.values()})
            if all(code >= 500 for code in codes):
                raise MailRejected(
                    f"{where} refused every recipient of email {key} (codes {codes}): "
                    "check the recipient addresses in the directory; retrying will not help",
                    code=max(codes),
                ) from None
            raise MailTemporarilyUnavailable(
                f"{where} refused every recipient of email {key}, some only for now (codes {codes}); will retry"
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            # Retried rather than dropped: once the operator fixes the credentials, the mail goes out.
            raise MailTemporarilyUnavailable(
                f"{where} refused the login ({error.smtp_code}): check LEARNINGDAY_SMTP_USERNAME and "
                "LEARNINGDAY_SMTP_PASSWORD; the email is kept and retried"
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise MailTemporarilyUnavailable(
                f"{where} does not support what we asked ({error}): if it offers no STARTTLS set "
                "LEARNINGDAY_SMTP_TLS=tls or none; if no AUTH, unset LEARNINGDAY_SMTP_USERNAME"
            ) from None
        except smtplib.SMTPResponseException as error:
            # Sender refused, data refused, or any other coded reply.
            if error.smtp_code >= 500:
                raise MailRejected(
                    f"{where} rejected email {key} with {error.smtp_code}: "
                    f"{_reply_text(error.smtp_error)}; retrying will not help",
                    code=error.smtp_code,
                ) from None
            raise MailTemporarilyUnavailable(
                f"{where} deferred email {key} with {error.smtp_code}; will retry"
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise MailTemporarilyUnavailable(
                f"{where}: the server's TLS certificate did not verify ({error.verify_message}): "
                "install the relay's CA (ca_file) or fix its certificate"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            # Connection refused, reset, timed out, DNS failure, server hung up.
            raise MailTemporarilyUnavailable(
                f"{where} unreachable while sending email {key} ({type(error).__name__}: {error}); will retry"
            ) from None
        if refused:
            # Some recipients took it: retrying would send it again to them, so it counts as sent.
            log.warning(
                "email %s delivered, but %s refused %d of %d recipients",
                key,
                where,
                len(refused),
                len(recipients),
            )

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._ssl_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


_ADDRESS = re.compile(r"<?[^\s<>]+@[^\s<>]+>?")


def _reply_text(raw: bytes | str) -> str:
    # The server's reply may echo the address it refused: it must not reach our logs.
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return _ADDRESS.sub("<address>", text).strip()[:200]
