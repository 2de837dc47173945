"""`day start --date` refuses a date already past and a weekday that is not the policy's
Learning Day, unless `--force`: a typo must not email managers about misses in 2020."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from learningday.cli import app
from learningday.db.models import Person
from learningday.temporal.devserver import free_port

runner = CliRunner()


@pytest.fixture
def ada(session: Session, fresh_settings: pytest.MonkeyPatch) -> Person:
    # Nothing listens there: a date that passes the checks ends at "unreachable", not at a day.
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    fresh_settings.delenv("LEARNINGDAY_POLICY_FILE", raising=False)  # Thursday
    person = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/London")
    session.add(person)
    session.commit()
    return person


def next_weekday(index: int) -> dt.date:
    today = dt.date.today() + dt.timedelta(days=2)  # clear of today in every timezone
    return today + dt.timedelta(days=(index - today.weekday()) % 7)


def test_a_past_date_is_refused(ada: Person) -> None:
    result = runner.invoke(app, ["day", "start", "-p", "ada@example.com", "--date", "2020-01-02"])
    assert result.exit_code != 0
    assert "2020-01-02" in result.output and "past" in result.output and "--force" in result.output
    assert "unreachable" not in result.output


def test_a_day_that_is_not_the_learning_day_is_refused(ada: Person) -> None:
    wednesday = next_weekday(2)
    result = runner.invoke(app, ["day", "start", "-p", "ada@example.com", "--date", wednesday.isoformat()])
    assert result.exit_code != 0
    assert f"{wednesday:%A}" in result.output and "Thursday" in result.output and "--force" in result.output
    assert "unreachable" not in result.output


@pytest.mark.parametrize("date", ["2020-01-02", next_weekday(2).isoformat()])
def test_force_lets_the_date_through(ada: Person, date: str) -> None:
    result = runner.invoke(app, ["day", "start", "-p", "ada@example.com", "--date", date, "--force"])
    assert "unreachable" in result.output
