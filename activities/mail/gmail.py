"""The Gmail mailer: sends through the Gmail API as one Workspace account (domain-wide delegation).

For companies without an SMTP relay but with Google Workspace. Exactly-once works as for SMTP:
the outbox answers a key already sent without calling Google, and a send is recorded right after
Gmail accepts it, with Gmail's message id as the external id.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.errors import HttpError

from activities.calendar.google import load_credentials, service_endpoint
from activities.google_client import SharedCollection
from activities.mail.message import build_message, message_id_for
from activities.mail.outbox import already_sent, record_sent
from activities.mail.smtp import CHANNEL, MailRejected, MailTemporarilyUnavailable, SessionFactory
from learningday.contracts.mail import Email, Sent
from learningday.db.engine import session_scope
from learningday.db.installation import installation_id
from learningday.settings import Settings

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/gmail.send"]


class GmailMailer:
    """Sends each `Email` once with `users.messages.send`, acting as `sender` (`Mailer` port)."""

    def __init__(
        self,
        sender: str,
        service_account_file: str | Path | None = None,
        *,
        credentials_info: Mapping[str, Any] | None = None,
        api_endpoint: str | None = None,
        from_header: str | None = None,
        num_retries: int = 5,
        timeout: float = 30.0,
        sessions: SessionFactory = session_scope,
    ) -> None:
        if "@" not in sender:
            raise ValueError(
                f"Gmail sender {sender!r} is not an address: set LEARNINGDAY_GMAIL_SENDER to the sending account"
            )
        self.sender = sender
        self.from_header = from_header or sender
        self._credentials = load_credentials(service_account_file, credentials_info, SCOPES).with_subject(sender)
        self._endpoint = service_endpoint(api_endpoint, "")
        self._messages = SharedCollection("gmail", "v1", ("users", "messages"), self._endpoint)
        self._num_retries = num_retries
        self._timeout = timeout
        self._sessions = sessions

    @classmethod
    def from_settings(cls, settings: Settings) -> GmailMailer:
        if not settings.gmail_sender:
            raise ValueError(
                "LEARNINGDAY_MAIL_BACKEND=gmail needs LEARNINGDAY_GMAIL_SENDER (the Workspace account mail is sent as)"
            )
        if settings.google_service_account_file is None:
            raise ValueError(
                "LEARNINGDAY_MAIL_BACKEND=gmail needs LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE "
                "(a key with domain-wide delegation for the gmail.send scope)"
            )
        # Gmail rewrites a From that is not the account or one of its aliases; use mail_from only
        # when it names the sending account (it adds a display name).
        same = parseaddr(settings.mail_from)[1].lower() == settings.gmail_sender.lower()
        return cls(
            settings.gmail_sender,
            settings.google_service_account_file,
            api_endpoint=settings.google_api_endpoint,
            from_header=settings.mail_from if same else settings.gmail_sender,
        )

    def send(self, email: Email) -> Sent:
        with self._sessions() as session:
            install_id = installation_id(session)
            message_id = message_id_for(email.key, install_id, self.from_header)
            if already_sent(session, email.key) is not None:
                log.info("email %s already sent; not sending again", email.key)
                return Sent(message_id=message_id, already_sent=True)

        message = build_message(email, self.from_header, install_id)
        raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
        gmail_id = self._deliver(email.key, raw)

        with self._sessions() as session:
            record_sent(session, email, CHANNEL, gmail_id)
        log.info("email %s sent via Gmail as message %s", email.key, gmail_id)
        return Sent(message_id=message_id)

    def _deliver(self, key: str, raw: str) -> str:
        http = AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=self._timeout))
        request = self._messages.over(http).send(userId="me", body={"raw": raw})
        try:
            # Retries 429, 5xx and 403 rate-limit answers with back-off before giving up.
            response = request.execute(num_retries=self._num_retries)
        except HttpError as error:
            status = error.resp.status
            if status == 400:
                raise MailRejected(
                    f"Gmail refused email {key} as invalid ({error.reason}); retrying will not help", code=status
                ) from None
            raise MailTemporarilyUnavailable(
                f"Gmail answered {status} for email {key} ({error.reason}): if 401/403, check the service "
                f"account's domain-wide delegation for {SCOPES[0]} and LEARNINGDAY_GMAIL_SENDER; will retry"
            ) from None
        except RefreshError as error:
            raise MailTemporarilyUnavailable(
                f"Google refused a token to send as {self.sender} ({error}): check the service account's "
                f"domain-wide delegation for {SCOPES[0]}; will retry"
            ) from None
        except (OSError, httplib2.HttpLib2Error) as error:
            raise MailTemporarilyUnavailable(
                f"Gmail unreachable while sending email {key} ({type(error).__name__}: {error}); will retry"
            ) from None
        return str(response["id"])
