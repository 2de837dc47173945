"""A person's fields are single lines of plain text: a line break, a tab or any other control
character in an org file is refused at its file, line and field, and nothing is imported.

A name with a line break used to be stored as is, and later broke every email header and the ICS
feed built from it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from learningday.org import import_org
from tests.org.conftest import HEADER, WriteFile, directory, row_counts

FULL_HEADER = f"{HEADER},role,active"
# Line 2 is valid; the person under test is on line 3.
VALID_ROW = "ann@example.com,Ann Able,UTC,,Platform,,learner,true"
EVE = {
    "email": "eve@example.com",
    "name": "Eve Evans",
    "timezone": "UTC",
    "manager_email": "ann@example.com",
    "team": "Platform",
    "slack_id": "U012AB3CD",
    "role": "learner",
    "active": "true",
}
COLUMNS = FULL_HEADER.split(",")


def csv_row(**changes: str) -> str:
    values = dict(EVE, **changes)
    # Quoted, so a line break stays inside the value (and the row spans two physical lines).
    return ",".join(f'"{values[column]}"' for column in COLUMNS)


def _refused(engine: Engine, path):  # type: ignore[no-untyped-def]
    before = (row_counts(engine), directory(engine))
    with Session(engine) as session:
        report = import_org(session, path)
        session.commit()
    assert not report.ok
    assert (row_counts(engine), directory(engine)) == before, "a refused import wrote something"
    return report


def test_a_name_with_a_line_break_is_refused_with_file_and_line(engine: Engine, write_file: WriteFile) -> None:
    ada = csv_row(email="ada@example.com", name="Ada\nLovelace")
    path = write_file("org.csv", f"{FULL_HEADER}\n{VALID_ROW}\n{ada}\n")

    report = _refused(engine, path)

    assert [(p.file, p.line, p.field) for p in report.problems] == [(str(path), 3, "name")]
    assert "line break" in report.problems[0].message
    assert str(report.problems[0]).startswith(f"{path}:3: name: ")
    assert "\n" not in str(report.problems[0])  # the message itself stays on one line
    assert directory(engine) == {}


CONTROL = {
    "carriage_return": "\r",
    "tab": "\t",
    "nul": "\x00",
    "escape": "\x1b",
    "delete": "\x7f",
    "c1_next_line": "\x85",
    "line_separator": "\u2028",
    "paragraph_separator": "\u2029",
}


@pytest.mark.parametrize("field", COLUMNS)
@pytest.mark.parametrize("character", CONTROL.values(), ids=CONTROL.keys())
def test_a_control_character_in_any_person_field_is_refused_at_that_field(
    engine: Engine, write_file: WriteFile, field: str, character: str
) -> None:
    value = EVE[field]
    bad = value[:2] + character + value[2:]  # inside the value: surrounding whitespace is trimmed
    path = write_file("org.csv", f"{FULL_HEADER}\n{VALID_ROW}\n{csv_row(**{field: bad})}\n")

    report = _refused(engine, path)

    # One problem, at the field: not also "not an email address" or "unknown timezone".
    assert [(p.line, p.field) for p in report.problems] == [(3, field)]
    assert f"U+{ord(character):04X}" in report.problems[0].message or "line break" in report.problems[0].message


def test_a_control_character_is_reported_with_every_other_problem_at_once(
    engine: Engine, write_file: WriteFile
) -> None:
    eve = csv_row(name="Eve\tEvans", timezone="Mars/Olympus", manager_email="")
    text = f"{FULL_HEADER}\n{eve}\n"

    report = _refused(engine, write_file("org.csv", text))

    assert [(p.line, p.field) for p in report.problems] == [(2, "name"), (2, "timezone")]
    assert "tab" in report.problems[0].message


def test_a_yaml_name_with_a_line_break_is_refused_at_the_value_line(engine: Engine, write_file: WriteFile) -> None:
    path = write_file(
        "org.yaml",
        """
        people:
          - email: ann@example.com
            name: Ann Able
            timezone: UTC
          - email: ada@example.com
            name: "Ada\\nLovelace"
            timezone: UTC
        """,
    )

    report = _refused(engine, path)

    assert [(p.file, p.line, p.field) for p in report.problems] == [(str(path), 6, "name")]
    assert "line break" in report.problems[0].message


def test_a_yaml_literal_block_name_is_refused(engine: Engine, write_file: WriteFile) -> None:
    path = write_file(
        "org.yaml",
        """
        people:
          - email: ada@example.com
            name: |
              Ada
              Lovelace
            timezone: UTC
        """,
    )

    report = _refused(engine, path)

    assert [(p.line, p.field) for p in report.problems] == [(3, "name")]


def test_spaces_and_letters_from_any_script_are_still_accepted(engine: Engine, write_file: WriteFile) -> None:
    text = f"{HEADER}\nzoe@example.com,Zoë  Ørsted-Łukasz 李,Asia/Tokyo,,R&D — Tokyo,\n"

    with Session(engine) as session:
        report = import_org(session, write_file("org.csv", text))
        session.commit()

    assert report.ok, report.problems
    assert directory(engine)["zoe@example.com"][:2] == ("Zoë  Ørsted-Łukasz 李", "R&D — Tokyo")
