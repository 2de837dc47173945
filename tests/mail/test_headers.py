"""Whatever a header is built from, the message builds: a person stored with a line break in their
name (imported before names were checked) must not make their manager's flag email fail on every
retry. Control characters in header values become single spaces; the body is left as written."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy.orm import Session

from activities.mail.message import build_message
from activities.mail.smtp import SmtpMailer
from learningday.contracts.mail import Email
from tests.mail.smtp_peer import HOST, CollectingHandler, smtp_server

SENDER = "Learning Day <learning-day@example.com>"
INSTALL = "0123456789abcdef0123456789abcdef"


def flag_email(name: str, key: str = "flag:1:2") -> Email:
    return Email(
        key=key,
        to=["maria@example.com"],
        subject=f"{name}: No summary posted (Thu 03 Dec)",
        text=f"Hello Maria,\n\n{name} posted no summary.\n",
        html=f"<p>{name} posted no summary.</p>",
    )


def reparsed(email: Email, sender: str = SENDER):  # type: ignore[no-untyped-def]
    raw = build_message(email, sender, INSTALL).as_bytes()
    return raw, BytesParser(policy=policy.default).parsebytes(raw)


NAMES = {
    "line_feed": "Ada\nLovelace",
    "carriage_return_line_feed": "Ada\r\nLovelace",
    "carriage_return": "Ada\rLovelace",
    "spaces_around_the_break": "Ada \n Lovelace",
    "tab": "Ada\tLovelace",
    "vertical_tab_and_form_feed": "Ada\x0b\x0cLovelace",
    "nul_and_escape": "Ada\x00\x1bLovelace",
    "c1_next_line": "Ada\x85Lovelace",
    "line_separator": "Ada\u2028Lovelace",
    "paragraph_separator": "Ada\u2029Lovelace",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_a_name_with_a_control_character_gives_a_one_line_subject(name: str) -> None:
    raw, message = reparsed(flag_email(name))

    assert message["Subject"] == "Ada Lovelace: No summary posted (Thu 03 Dec)"
    headers = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    [subject_line] = [line for line in headers.splitlines() if line.startswith(b"Subject:")]
    assert subject_line == b"Subject: Ada Lovelace: No summary posted (Thu 03 Dec)"


def test_the_body_keeps_its_line_breaks() -> None:
    _, message = reparsed(flag_email("Ada\nLovelace"))

    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Maria,\n\nAda\nLovelace posted no summary." in text


def test_every_header_value_is_one_line_and_the_sender_display_name_too() -> None:
    email = Email(
        key="claim:7:approve",
        to=["maria@example.com"],
        cc=["hr@example.com"],
        reply_to="ada@example.com",
        subject="Approve\r\nBcc: everyone@example.com",
        text="body",
        html="<p>body</p>",
    )

    raw, message = reparsed(email, sender="Learning\nDay <learning-day@example.com>")

    assert message["Subject"] == "Approve Bcc: everyone@example.com"
    assert message["Bcc"] is None  # no header smuggled in through the subject
    assert message["From"] == "Learning Day <learning-day@example.com>"
    assert (message["To"], message["Cc"], message["Reply-To"]) == (
        "maria@example.com",
        "hr@example.com",
        "ada@example.com",
    )


def test_a_subject_from_a_name_with_a_line_break_arrives_as_one_line_over_smtp(session: Session) -> None:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        SmtpMailer(HOST, port, tls="none", sender=SENDER, timeout=5).send(flag_email("Ada\r\nLovelace"))

    [received] = handler.received
    assert received.message["Subject"] == "Ada Lovelace: No summary posted (Thu 03 Dec)"
    body = received.message.get_body(preferencelist=("plain",)).get_content()
    assert "Ada\r\nLovelace posted no summary." in body  # the body keeps its break (CRLF on the wire)
