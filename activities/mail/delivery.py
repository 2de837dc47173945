"""How a mail activity reports a refusal: retrying cannot fix a rejected address, so the
activity fails for good at once (its caller records the problem) instead of retrying for hours."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from activities.mail.port import Email, Mailer, Sent
from activities.mail.smtp import MailRejected


def send_or_raise(mailer: Mailer, email: Email) -> Sent:
    """Send `email`; a refusal for good becomes a non-retryable `MailRejected` activity error."""
    try:
        return mailer.send(email)
    except MailRejected as error:
        raise ApplicationError(str(error), type="MailRejected", non_retryable=True) from error
