"""`learningday org import` and `learningday org list`, run as an operator would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from learningday.cli import app
from tests.conftest import reset_caches
from tests.org.conftest import HEADER, WriteFile, directory, row_counts

runner = CliRunner()

ORG = f"""
{HEADER}
lead@example.com,Lee Lead,Europe/London,,Platform,
ann@example.com,Ann Able,America/Los_Angeles,lead@example.com,Platform,
rex@example.com,Rex Roe,UTC,,Research,
"""


def test_import_prints_a_summary_and_reimport_changes_nothing(engine: Engine, write_file: WriteFile) -> None:
    path = write_file("org.csv", ORG)

    first = runner.invoke(app, ["org", "import", str(path)])
    again = runner.invoke(app, ["org", "import", str(path)])

    assert (first.exit_code, first.stdout.strip()) == (0, "created 3, updated 0, unchanged 0")
    assert (again.exit_code, again.stdout.strip()) == (0, "created 0, updated 0, unchanged 3")
    assert len(directory(engine)) == 3


def test_dry_run_says_so_and_writes_nothing(engine: Engine, write_file: WriteFile) -> None:
    result = runner.invoke(app, ["org", "import", "--dry-run", str(write_file("org.csv", ORG))])

    assert result.exit_code == 0
    assert "nothing written" in result.stdout and "created 3" in result.stdout
    assert row_counts(engine) == (0, 0)


def test_import_prints_each_problem_with_file_and_line_and_exits_1(engine: Engine, write_file: WriteFile) -> None:
    path = write_file("org.csv", ORG + "eve@example.com,Eve,Mars/Olympus,ghost@example.com,,\n")

    result = runner.invoke(app, ["org", "import", str(path)])

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:5: timezone: unknown timezone 'Mars/Olympus'; use an IANA name like Europe/London"
    assert lines[1] == (
        f"{path}:5: manager_email: ghost@example.com is neither in this file nor in the directory; add them to the file"
    )
    assert lines[2] == "2 problems; nothing was imported."
    assert row_counts(engine) == (0, 0)


def test_deactivate_missing_is_reported_in_the_summary(engine: Engine, write_file: WriteFile) -> None:
    runner.invoke(app, ["org", "import", str(write_file("org.csv", ORG))])
    without_rex = write_file("less.csv", ORG.replace("rex@example.com,Rex Roe,UTC,,Research,\n", ""))

    result = runner.invoke(app, ["org", "import", "--deactivate-missing", str(without_rex)])

    assert (result.exit_code, result.stdout.strip()) == (0, "created 0, updated 0, unchanged 2, deactivated 1")


def test_list_shows_a_team_with_managers(engine: Engine, write_file: WriteFile) -> None:
    runner.invoke(app, ["org", "import", str(write_file("org.csv", ORG))])

    result = runner.invoke(app, ["org", "list", "--team", "Platform"])

    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["EMAIL", "NAME", "TEAM", "TIMEZONE", "MANAGER", "ROLE"]
    assert [row.split() for row in rows] == [
        ["ann@example.com", "Ann", "Able", "Platform", "America/Los_Angeles", "lead@example.com", "learner"],
        ["lead@example.com", "Lee", "Lead", "Platform", "Europe/London", "learner"],
    ]


def test_list_of_an_empty_team_says_how_to_import(engine: Engine) -> None:
    result = runner.invoke(app, ["org", "list", "--team", "Nobody"])

    assert result.exit_code == 0
    assert "No people in team 'Nobody'" in result.stdout


@pytest.fixture
def unmigrated_database(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty SQLite file as the configured database, for this test only."""
    path = tmp_path / "empty.db"
    monkeypatch.setenv("LEARNINGDAY_DATABASE_URL", f"sqlite:///{path}")
    reset_caches()
    yield path
    reset_caches()  # the next get_settings() sees the restored environment


@pytest.mark.parametrize("command", [["org", "list"], ["org", "import", "org.csv"]])
def test_unmigrated_database_says_which_command_to_run(unmigrated_database: Path, command: list[str]) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 1
    assert str(unmigrated_database) in result.stderr
    assert "is empty. Run `learningday db upgrade` first." in result.stderr
    assert "Traceback" not in result.output
