"""Email: SMTP, the Gmail API, or a local Maildir outbox."""
