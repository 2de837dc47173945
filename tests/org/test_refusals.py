"""A file with any problem is refused whole: every problem named by file, line and field,
and the database left exactly as it was, even when the rows before the bad one were fine."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from learningday.org import import_org
from tests.org.conftest import HEADER, WriteFile, directory, row_counts

SEED = f"""
{HEADER}
lead@example.com,Lee Lead,Europe/London,,Platform,
ann@example.com,Ann Able,America/Los_Angeles,lead@example.com,Platform,
"""

# Lines 2 and 3 are valid (an update and a creation); the case under test starts on line 4.
VALID_START = f"""{HEADER}
ann@example.com,Ann Able,America/Los_Angeles,lead@example.com,Research,
dan@example.com,Dan Day,UTC,lead@example.com,Platform,
"""


@pytest.fixture
def seeded(engine: Engine, write_file: WriteFile) -> Engine:
    with Session(engine) as session:
        assert import_org(session, write_file("seed.csv", SEED)).ok
        session.commit()
    return engine


def _refused(engine: Engine, path, **options):  # type: ignore[no-untyped-def]
    """Import `path`, commit whatever the importer left in the session, and return the report."""
    before = (row_counts(engine), directory(engine))
    with Session(engine) as session:
        report = import_org(session, path, **options)
        session.commit()
    assert not report.ok
    assert (row_counts(engine), directory(engine)) == before, "a refused import wrote something"
    assert {problem.file for problem in report.problems} == {str(path)}
    return report


CASES = {
    "missing_email": (",Nobody,UTC,,Platform,", [(4, "email")], "missing"),
    "invalid_email": ("not-an-email,Nobody,UTC,,Platform,", [(4, "email")], "'not-an-email' is not an email"),
    "missing_name": ("eve@example.com,,UTC,,Platform,", [(4, "name")], "missing"),
    "unknown_timezone": (
        "eve@example.com,Eve,Mars/Olympus,,Platform,",
        [(4, "timezone")],
        "unknown timezone 'Mars/Olympus'",
    ),
    "duplicate_email_reports_both_lines": (
        "DAN@example.com,Dan Again,UTC,,Platform,",
        [(3, "email"), (4, "email")],
        "dan@example.com is also on line",
    ),
    "unknown_manager": (
        "eve@example.com,Eve,UTC,ghost@example.com,Platform,",
        [(4, "manager_email")],
        "ghost@example.com is neither in this file nor in the directory",
    ),
    "self_manager": (
        "eve@example.com,Eve,UTC,EVE@example.com,Platform,",
        [(4, "manager_email")],
        "cannot be their own manager",
    ),
    "manager_cycle": (
        "eve@example.com,Eve,UTC,fay@example.com,Platform,\nfay@example.com,Fay,UTC,eve@example.com,Platform,",
        [(4, "manager_email")],
        "eve@example.com → fay@example.com → eve@example.com (lines 4, 5)",
    ),
    "bad_slack_id": ("eve@example.com,Eve,UTC,,Platform,eve", [(4, "slack_id")], "not a Slack user id"),
    "too_many_values": (
        "eve@example.com,Eve,UTC,,Platform,,extra",
        [(4, "")],
        "7 values but the header on line 1 names 6",
    ),
}


@pytest.mark.parametrize(("bad_rows", "where", "message"), CASES.values(), ids=CASES.keys())
def test_bad_csv_row_is_reported_at_its_line_and_nothing_is_written(
    seeded: Engine, write_file: WriteFile, bad_rows: str, where: list[tuple[int, str]], message: str
) -> None:
    report = _refused(seeded, write_file("org.csv", VALID_START + bad_rows + "\n"))

    assert [(problem.line, problem.field) for problem in report.problems] == where
    assert message in report.problems[0].message


def test_every_problem_is_reported_at_once(seeded: Engine, write_file: WriteFile) -> None:
    text = VALID_START + "bad,Eve,Nowhere/City,,Platform,\nfay@example.com,Fay,UTC,fay@example.com,,\n"

    report = _refused(seeded, write_file("org.csv", text))

    assert [(p.line, p.field) for p in report.problems] == [
        (4, "email"),
        (4, "timezone"),
        (5, "manager_email"),
    ]


def test_unknown_column_is_reported_on_the_header_line(seeded: Engine, write_file: WriteFile) -> None:
    text = VALID_START.replace(HEADER, HEADER + ",shoe_size").replace("Research,", "Research,,44")

    report = _refused(seeded, write_file("org.csv", text))

    assert [(p.line, p.field) for p in report.problems] == [(1, "shoe_size")]
    assert "unknown column" in report.problems[0].message


@pytest.mark.parametrize(("column", "value"), [("role", "boss"), ("active", "maybe")])
def test_bad_role_or_active_is_reported(seeded: Engine, write_file: WriteFile, column: str, value: str) -> None:
    text = (
        f"{HEADER},{column}\n"
        "ann@example.com,Ann Able,America/Los_Angeles,lead@example.com,Research,,\n"
        f"eve@example.com,Eve,UTC,,Platform,,{value}\n"
    )

    report = _refused(seeded, write_file("org.csv", text))

    assert [(p.line, p.field) for p in report.problems] == [(3, column)]
    assert repr(value) in report.problems[0].message


def test_cycle_closed_by_a_manager_already_in_the_database_is_refused(seeded: Engine, write_file: WriteFile) -> None:
    # Stored: ann reports to lead. The file makes lead report to ann.
    text = (
        f"{HEADER}\n"
        "dan@example.com,Dan Day,UTC,,Platform,\n"
        "lead@example.com,Lee Lead,Europe/London,ann@example.com,Platform,\n"
    )

    report = _refused(seeded, write_file("org.csv", text))

    assert [(p.line, p.field) for p in report.problems] == [(3, "manager_email")]
    message = report.problems[0].message
    assert "lead@example.com → ann@example.com → lead@example.com" in message
    assert "ann@example.com already in the directory" in message


def test_keeping_a_manager_only_in_the_database_conflicts_with_deactivate_missing(
    seeded: Engine, write_file: WriteFile
) -> None:
    text = f"{HEADER}\ndan@example.com,Dan Day,UTC,lead@example.com,Platform,\n"

    report = _refused(seeded, write_file("org.csv", text), deactivate_missing=True)

    assert [(p.line, p.field) for p in report.problems] == [(2, "manager_email")]
    assert "--deactivate-missing would deactivate" in report.problems[0].message


YAML_START = """
people:
  - email: ann@example.com
    name: Ann Able
    timezone: America/Los_Angeles
    team: Research
  - email: dan@example.com
    name: Dan Day
    timezone: UTC
"""

YAML_CASES = {
    "unknown_timezone_points_at_the_value": (
        "  - email: eve@example.com\n    name: Eve\n    timezone: Europe/Londn\n",
        [(11, "timezone")],
        "did you mean Europe/London?",
    ),
    "unknown_key": (
        "  - email: eve@example.com\n    name: Eve\n    timezone: UTC\n    shoe_size: 44\n",
        [(12, "shoe_size")],
        "unknown key",
    ),
    "duplicate_email_reports_both_lines": (
        "  - email: Dan@Example.com\n    name: Dan Again\n    timezone: UTC\n",
        [(6, "email"), (9, "email")],
        "also on line 9",
    ),
    "cycle": (
        "  - email: eve@example.com\n    name: Eve\n    timezone: UTC\n    manager_email: fay@example.com\n"
        "  - email: fay@example.com\n    name: Fay\n    timezone: UTC\n    manager_email: eve@example.com\n",
        [(12, "manager_email")],
        "(lines 12, 16)",
    ),
    "self_manager": (
        "  - email: eve@example.com\n    name: Eve\n    timezone: UTC\n    manager_email: eve@example.com\n",
        [(12, "manager_email")],
        "own manager",
    ),
    "missing_name_points_at_the_entry": (
        "  - email: eve@example.com\n    timezone: UTC\n",
        [(9, "name")],
        "missing",
    ),
    "list_instead_of_value": (
        "  - email: eve@example.com\n    name: Eve\n    timezone: [UTC]\n",
        [(11, "timezone")],
        "expected a single value",
    ),
    "syntax_error": (
        "  - email: eve@example.com\n    name: [Eve\n",
        [(11, "")],
        "while parsing a flow sequence (line 10)",
    ),
}


@pytest.mark.parametrize(("bad_entries", "where", "message"), YAML_CASES.values(), ids=YAML_CASES.keys())
def test_bad_yaml_entry_is_reported_at_its_line_and_nothing_is_written(
    seeded: Engine, write_file: WriteFile, bad_entries: str, where: list[tuple[int, str]], message: str
) -> None:
    report = _refused(seeded, write_file("org.yaml", YAML_START + bad_entries))

    assert [(problem.line, problem.field) for problem in report.problems] == where
    assert message in report.problems[0].message
