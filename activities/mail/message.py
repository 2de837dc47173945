"""Build the one MIME message every mailer sends (SMTP, Gmail API, Maildir).

The Message-ID is derived from this installation's id and the outbox key: the same email retried
after a crash carries the same id (a receiving server or a person's mail client can recognise it
as a repeat, and a test can find it), while another installation, or this one reinstalled on a
fresh database where flag ids start again at 1, never reuses an id an inbox has already seen.

Header values are made single-line here, whatever they were built from: a name stored with a
line break would otherwise make the email package refuse the Subject on every retry, and the
email would never go out.
"""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from learningday.contracts.mail import Email
from policies.text import one_line

# Used when the sender has no usable domain; .invalid is reserved, so it can never be someone's.
FALLBACK_DOMAIN = "learningday.invalid"
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")


def message_id_domain(sender: str | None) -> str:
    """The domain of the sender's address, else `learningday.invalid`."""
    address = parseaddr(one_line(sender or ""))[1]
    domain = address.rpartition("@")[2].lower() if "@" in address else ""
    return domain if _DOMAIN.match(domain) else FALLBACK_DOMAIN


def message_id_for(key: str, install_id: str, sender: str | None = None) -> str:
    """The Message-ID for outbox `key` on installation `install_id`, e.g. `<3f2a…@example.com>`.

    `install_id` comes from `learningday.db.installation.installation_id(session)`.
    """
    if not install_id:
        raise ValueError("a Message-ID needs the installation id: pass installation_id(session)")
    digest = hashlib.sha256(f"{install_id}\n{key}".encode()).hexdigest()[:32]
    return f"<{digest}@{message_id_domain(sender)}>"


def build_message(email: Email, sender: str, install_id: str) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred) from `sender`.

    Header values are made single-line (`one_line`); the body is left as written.
    """
    if not email.to:
        raise ValueError(f"email {email.key!r} has no recipient: set Email.to to at least one address")
    message = EmailMessage()
    message["From"] = one_line(sender)
    message["To"] = ", ".join(one_line(address) for address in email.to)
    if email.cc:
        message["Cc"] = ", ".join(one_line(address) for address in email.cc)
    if email.reply_to:
        message["Reply-To"] = one_line(email.reply_to)
    message["Subject"] = one_line(email.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_for(email.key, install_id, sender)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
