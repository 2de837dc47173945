"""Which mailer the settings choose."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from activities.mail.factory import mailer_from_settings
from activities.mail.maildir import MaildirMailer
from activities.mail.smtp import SmtpMailer
from learningday.settings import Settings


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


def test_nothing_configured_writes_to_the_maildir_in_the_data_dir(tmp_path: Path) -> None:
    mailer = mailer_from_settings(settings(tmp_path))
    assert isinstance(mailer, MaildirMailer)
    assert mailer.path == tmp_path / "outbox"


def test_an_smtp_host_chooses_smtp_with_the_configured_relay(tmp_path: Path) -> None:
    mailer = mailer_from_settings(
        settings(
            tmp_path,
            smtp_host="relay.example.com",
            smtp_port=465,
            smtp_tls="tls",
            smtp_username="ld",
            smtp_password=SecretStr("pw"),
            mail_from="LD <ld@example.com>",
        )
    )
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.tls, mailer.username, mailer.sender) == (
        "relay.example.com",
        465,
        "tls",
        "ld",
        "LD <ld@example.com>",
    )


def test_smtp_chosen_without_a_host_names_the_missing_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LEARNINGDAY_SMTP_HOST"):
        mailer_from_settings(settings(tmp_path, mail_backend="smtp"))


def test_an_unknown_backend_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="auto, smtp, gmail, maildir"):
        mailer_from_settings(settings(tmp_path, mail_backend="carrier-pigeon"))


def test_gmail_is_chosen_explicitly_and_its_own_checks_apply(tmp_path: Path) -> None:
    # No sender configured: the Gmail mailer (imported only now) says which setting is missing.
    with pytest.raises(ValueError, match="LEARNINGDAY_GMAIL_SENDER"):
        mailer_from_settings(settings(tmp_path, mail_backend="gmail", smtp_host="relay.example.com"))
