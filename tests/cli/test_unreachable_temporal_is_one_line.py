"""A command that needs Temporal, with none at the address, prints one line saying so and what to
do, and exits non-zero (not a hundred lines of gRPC traceback)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from learningday.cli import app
from learningday.db.models import Person
from learningday.temporal.devserver import free_port

runner = CliRunner()
ENDED_WEEK = (dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 14)).isoformat()  # a Monday
COMMANDS = {
    "day start": ["day", "start", "-p", "ada@example.com"],
    "day refresh": ["day", "refresh"],
    "claims submit": [
        "claims",
        "submit",
        "-p",
        "ada@example.com",
        "--amount",
        "12.50",
        "--category",
        "books",
        "--description",
        "Designing Data-Intensive Applications",
    ],
    "audit run --send": ["audit", "run", "--week", ENDED_WEEK, "--send"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unreachable_temporal_is_one_line(command: str, session: Session, fresh_settings: pytest.MonkeyPatch) -> None:
    address = f"127.0.0.1:{free_port()}"
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_ADDRESS", address)
    fresh_settings.delenv("LEARNINGDAY_POLICY_FILE", raising=False)
    session.add(Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/London"))
    session.commit()

    result = runner.invoke(app, COMMANDS[command])

    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert f"Temporal at {address} is unreachable" in lines[0]
    assert "learningday serve" in lines[0] and "LEARNINGDAY_TEMPORAL_ADDRESS" in lines[0]
