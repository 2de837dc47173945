"""Every command that reads the database, run before `learningday db upgrade`, says which command
to run in one line: not a SQLAlchemy traceback about a missing table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from learningday.cli import app
from learningday.settings import get_settings
from policies.spillover import week_start

runner = CliRunner()
ENDED_WEEK = (week_start(dt.date.today()) - dt.timedelta(weeks=2)).isoformat()


@pytest.mark.parametrize(
    "command",
    [
        ["audit", "run", "--week", ENDED_WEEK],
        ["day", "start", "--all"],
        ["claims", "balance", "--person", "ada@example.com"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_command_on_an_unmigrated_database_names_the_upgrade_in_one_line(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNINGDAY_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    from learningday.db import engine

    engine.get_engine.cache_clear()
    engine._sessionmaker.cache_clear()
    try:
        result = runner.invoke(app, command)
    finally:
        get_settings.cache_clear()
        engine.get_engine.cache_clear()
        engine._sessionmaker.cache_clear()

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Run `learningday db upgrade` first." in lines[0], result.output
