"""Message-IDs are unique per installation: the same email retried keeps its id, but the same
outbox key on another installation, or on this one reinstalled on a fresh database (where flag
ids start again at 1), is a different email and gets a different id."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from activities.mail.maildir import MaildirMailer
from activities.mail.message import build_message, message_id_for
from activities.mail.smtp import SessionFactory, SmtpMailer
from learningday.contracts.mail import Email
from learningday.db import migrate
from learningday.db.engine import make_engine
from learningday.db.installation import forget_cached, installation_id
from learningday.db.models import Installation, OutboxMessage
from tests.mail.smtp_peer import HOST, CollectingHandler, smtp_server

SENDER = "Learning Day <learning-day@mail.example.com>"


def flag_email(subject: str = "Ada Lovelace: No plan posted (Thu 03 Dec)") -> Email:
    return Email(key="flag:1:2", to=["maria@example.com"], subject=subject, text="text", html="<p>html</p>")


@pytest.fixture
def fresh_installation(engine: Engine) -> Iterator[None]:
    forget_cached()
    yield
    forget_cached()


def reinstall_on_a_fresh_database(session: Session) -> None:
    """What a new installation looks like to the mailer: no outbox, no installation id yet."""
    session.execute(delete(OutboxMessage))
    session.execute(delete(Installation))
    session.commit()
    forget_cached()


def test_the_same_key_under_two_installations_gives_two_message_ids() -> None:
    first = message_id_for("flag:1:2", "a" * 32, SENDER)
    second = message_id_for("flag:1:2", "b" * 32, SENDER)

    assert first != second
    assert first.split("@")[0] != second.split("@")[0]


def test_a_retry_on_the_same_installation_keeps_its_message_id() -> None:
    assert message_id_for("flag:1:2", "a" * 32, SENDER) == message_id_for("flag:1:2", "a" * 32, SENDER)
    assert message_id_for("flag:1:2", "a" * 32, SENDER) != message_id_for("flag:1:3", "a" * 32, SENDER)


@pytest.mark.parametrize(
    ("sender", "domain"),
    [
        (SENDER, "mail.example.com"),
        ("ld@Example.COM", "example.com"),
        ("Learning Day", "learningday.invalid"),
        ("", "learningday.invalid"),
        ("ld@[127.0.0.1]", "learningday.invalid"),
    ],
)
def test_the_message_id_domain_is_the_senders_or_a_reserved_one(sender: str, domain: str) -> None:
    message_id = message_id_for("flag:1:2", "a" * 32, sender)

    assert message_id.startswith("<") and message_id.endswith(f"@{domain}>")


def test_the_header_carries_the_same_id_the_mailer_returns() -> None:
    message = build_message(flag_email(), SENDER, "a" * 32)

    assert message["Message-ID"] == message_id_for("flag:1:2", "a" * 32, SENDER)


def test_a_reinstalled_database_sends_the_same_key_under_a_new_message_id_over_smtp(
    fresh_installation: None, session: Session
) -> None:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        mailer = SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5)
        before = mailer.send(flag_email())
        retried = mailer.send(flag_email())
        reinstall_on_a_fresh_database(session)
        after = mailer.send(flag_email("Bob Noyce: No plan posted (Thu 10 Dec)"))

    assert retried.already_sent and retried.message_id == before.message_id
    assert after.message_id != before.message_id
    assert [r.message["Message-ID"] for r in handler.received] == [before.message_id, after.message_id]
    assert after.message_id.endswith("@mail.example.com>")
    assert after.message_id == message_id_for("flag:1:2", installation_id(session), SENDER)


def test_a_reinstalled_database_writes_the_same_key_under_a_new_message_id_to_the_maildir(
    fresh_installation: None, session: Session, tmp_path: Path
) -> None:
    mailer = MaildirMailer(tmp_path / "outbox", sender=SENDER)
    before = mailer.send(flag_email())
    reinstall_on_a_fresh_database(session)
    after = mailer.send(flag_email())

    assert before.message_id != after.message_id
    written = {m["Message-ID"] for m in mailbox.Maildir(tmp_path / "outbox", create=False)}
    assert written == {before.message_id, after.message_id}


@pytest.fixture
def other_database(tmp_path: Path) -> Iterator[SessionFactory]:
    """A second installation's database beside the test one (SQLite, whatever the test one is)."""
    url = f"sqlite:///{tmp_path / 'other.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)

    @contextmanager
    def sessions() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    yield sessions
    engine.dispose()


def test_two_installations_send_the_same_key_under_different_message_ids(
    fresh_installation: None, other_database: SessionFactory
) -> None:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        here = SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email())
        there = SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5, sessions=other_database).send(flag_email())

    assert here.message_id != there.message_id
    assert [r.message["Message-ID"] for r in handler.received] == [here.message_id, there.message_id]
