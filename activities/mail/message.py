"""Build the one MIME message every mailer sends (SMTP, Gmail API, Maildir).

The Message-ID is derived from the outbox key, so the same email retried after a crash carries
the same id: a receiving server or a person's mail client can recognise it as a repeat, and a
test can find it.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

from activities.mail.port import Email

MESSAGE_ID_DOMAIN = "learningday"


def message_id_for(key: str) -> str:
    """The deterministic Message-ID for an outbox key, e.g. `<3f2a…@learningday>`."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def build_message(email: Email, sender: str) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred) from `sender`."""
    if not email.to:
        raise ValueError(f"email {email.key!r} has no recipient: set Email.to to at least one address")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    if email.cc:
        message["Cc"] = ", ".join(email.cc)
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_for(email.key)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
