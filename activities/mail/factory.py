"""Which mailer the worker uses, decided once from settings.

`Settings.resolved_mail_backend` says smtp (a relay is configured), gmail (chosen explicitly) or
maildir (the embedded default: nothing leaves the machine). The Gmail mailer is imported only when
chosen, so a plain SMTP or local install never loads the Google client.
"""

from __future__ import annotations

from activities.mail.maildir import MaildirMailer
from activities.mail.smtp import SmtpMailer
from learningday.contracts.mail import Mailer
from learningday.settings import Settings

BACKENDS = ("smtp", "gmail", "maildir")


def mailer_from_settings(settings: Settings) -> Mailer:
    backend = settings.resolved_mail_backend
    if backend == "smtp":
        if not settings.smtp_host:
            raise ValueError(
                "LEARNINGDAY_MAIL_BACKEND=smtp needs LEARNINGDAY_SMTP_HOST (and usually "
                "LEARNINGDAY_SMTP_PORT, LEARNINGDAY_SMTP_USERNAME, LEARNINGDAY_SMTP_PASSWORD)"
            )
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.mail_from,
        )
    if backend == "gmail":
        from activities.mail.gmail import GmailMailer  # lazy: pulls in googleapiclient

        return GmailMailer.from_settings(settings)
    if backend == "maildir":
        return MaildirMailer(settings.maildir_path, sender=settings.mail_from)
    raise ValueError(f"LEARNINGDAY_MAIL_BACKEND={settings.mail_backend!r} is not one of auto, {', '.join(BACKENDS)}")
