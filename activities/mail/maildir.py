"""The local mailer: the embedded default writes each email into a Maildir instead of sending it.

With no SMTP relay or Gmail configured, mail still "goes out" somewhere a person can read it: the
outbox pages of the web app (`/outbox`) and any mail client that opens a Maildir. The same outbox
check as the SMTP mailer keeps a retried activity from writing a message twice.
"""

from __future__ import annotations

import logging
import mailbox
from pathlib import Path

from activities.mail.message import build_message, message_id_for
from activities.mail.outbox import already_sent, record_sent
from activities.mail.smtp import CHANNEL, SessionFactory
from learningday.contracts.mail import Email, Sent
from learningday.db.engine import session_scope
from learningday.db.installation import installation_id

log = logging.getLogger(__name__)


class MaildirMailer:
    """Writes each `Email` once into the Maildir at `path` (`Mailer` port)."""

    def __init__(
        self,
        path: Path | str,
        sender: str = "Learning Day <learning-day@localhost>",
        *,
        sessions: SessionFactory = session_scope,
    ) -> None:
        self.path = Path(path)
        self.sender = sender
        self._sessions = sessions

    def send(self, email: Email) -> Sent:
        with self._sessions() as session:
            install_id = installation_id(session)
            message_id = message_id_for(email.key, install_id, self.sender)
            if already_sent(session, email.key) is not None:
                log.info("email %s already in the outbox; not writing again", email.key)
                return Sent(message_id=message_id, already_sent=True)

        # Maildir.add writes into tmp/ and renames into new/: a reader never sees half a message.
        maildir_key = self.open().add(build_message(email, self.sender, install_id))

        with self._sessions() as session:
            record_sent(session, email, CHANNEL, maildir_key)
        log.info("email %s written to the local outbox as %s", email.key, maildir_key)
        return Sent(message_id=message_id)

    def open(self) -> mailbox.Maildir:
        """The Maildir, created on first use (with its tmp/, new/ and cur/ folders)."""
        try:
            return mailbox.Maildir(self.path, create=True)
        except OSError as error:
            raise OSError(
                f"cannot create the local outbox Maildir at {self.path} ({error.strerror}): "
                "make LEARNINGDAY_DATA_DIR writable or configure SMTP (LEARNINGDAY_SMTP_HOST)"
            ) from error
