"""Reading org files: line numbers survive every shape a real file comes in."""

from __future__ import annotations

from pathlib import Path

from learningday.org.parse import read_org_file
from tests.org.conftest import HEADER, WriteFile


def test_csv_line_numbers_count_quoted_line_breaks_and_blank_lines(write_file: WriteFile) -> None:
    path = write_file(
        "org.csv",
        f"""
        {HEADER}
        ann@example.com,"Ann
        Able",UTC,,,

        bob@example.com,Bob,UTC,,,
        """,
    )

    parsed = read_org_file(path)

    assert parsed.problems == []
    assert [(row.line, row.values["email"]) for row in parsed.rows] == [
        (2, "ann@example.com"),
        (5, "bob@example.com"),
    ]


def test_csv_from_a_spreadsheet_with_bom_and_capitalised_header_is_read(tmp_path: Path) -> None:
    path = tmp_path / "org.csv"
    path.write_bytes("\ufeffEmail,Name,Timezone\r\nann@example.com, Ann ,UTC\r\n".encode())

    parsed = read_org_file(path)

    assert parsed.problems == []
    assert parsed.rows[0].values == {"email": "ann@example.com", "name": "Ann", "timezone": "UTC"}


def test_csv_without_a_required_column_is_reported_once_on_the_header(write_file: WriteFile) -> None:
    parsed = read_org_file(write_file("org.csv", "email,name\nann@example.com,Ann\n"))

    assert [(p.line, p.field) for p in parsed.problems] == [(1, "timezone")]
    assert parsed.rows == []


def test_empty_values_are_given_but_blank_while_missing_columns_are_not_given(
    write_file: WriteFile,
) -> None:
    parsed = read_org_file(write_file("org.csv", "email,name,timezone,team\nann@example.com,Ann,UTC,\n"))

    assert parsed.rows[0].values["team"] is None
    assert "slack_id" not in parsed.rows[0].values


def test_yaml_rows_know_the_line_of_each_value(write_file: WriteFile) -> None:
    path = write_file(
        "org.yaml",
        """
        # The directory
        people:
          - email: ann@example.com
            name: Ann
            timezone: UTC
            active: false
            slack_id: ~
        """,
    )

    parsed = read_org_file(path)

    assert parsed.problems == []
    row = parsed.rows[0]
    assert (row.line, row.line_of("timezone")) == (3, 5)
    assert row.values["active"] == "false"
    assert row.values["slack_id"] is None


def test_yaml_without_a_people_list_says_what_it_expects(write_file: WriteFile) -> None:
    parsed = read_org_file(write_file("org.yaml", "staff:\n  - email: ann@example.com\n"))

    assert [(p.line, p.field, p.message) for p in parsed.problems] == [
        (1, "staff", "unknown key; the file holds only `people:`"),
        (1, "people", "missing; list the people under `people:`"),
    ]


def test_yaml_people_that_is_not_a_list_is_reported(write_file: WriteFile) -> None:
    parsed = read_org_file(write_file("org.yaml", "people:\n  email: ann@example.com\n"))

    assert [(p.line, p.field) for p in parsed.problems] == [(2, "people")]


def test_yaml_key_given_twice_is_reported_on_the_second(write_file: WriteFile) -> None:
    text = "people:\n  - email: a@example.com\n    name: A\n    timezone: UTC\n    name: B\n"

    parsed = read_org_file(write_file("org.yaml", text))

    assert [(p.line, p.field, p.message) for p in parsed.problems] == [(5, "name", "given twice (first on line 3)")]


def test_unreadable_or_empty_files_are_whole_file_problems(write_file: WriteFile, tmp_path: Path) -> None:
    cases = {
        write_file("org.txt", "email\n"): "unknown file type '.txt'",
        tmp_path / "absent.csv": "no such file",
        write_file("empty.yaml", ""): "lists nobody",
        write_file("header-only.csv", HEADER + "\n"): "lists nobody",
    }
    for path, message in cases.items():
        problems = read_org_file(path).problems
        assert [(p.line, p.field) for p in problems] == [(0, "")], path
        assert message in problems[0].message
        assert str(problems[0]).startswith(f"{path}: ")
