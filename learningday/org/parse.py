"""Read an org file (CSV or YAML) into rows that remember their line numbers.

Nothing here judges the values; `validate` does. This module only reports problems with the
file's shape — unreadable, unknown columns or keys, a YAML syntax error — so that every
message can still point at a line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from learningday.org.rows import KNOWN_FIELDS, REQUIRED_FIELDS, OrgProblem, OrgRow, ParsedOrg

CSV_SUFFIXES = {".csv"}
YAML_SUFFIXES = {".yaml", ".yml"}
_YAML_NULL = "tag:yaml.org,2002:null"
_EXPECTED = ", ".join(KNOWN_FIELDS)


def read_org_file(path: Path) -> ParsedOrg:
    """Read `path`, choosing the format from its suffix."""
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | YAML_SUFFIXES:
        return _whole_file(file, f"unknown file type {suffix or '(none)'!r}; use a .csv, .yaml or .yml file")
    try:
        # utf-8-sig: spreadsheets like to start CSV exports with a byte-order mark.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        return _whole_file(file, "no such file")
    except UnicodeDecodeError:
        return _whole_file(file, "is not UTF-8 text; save it as UTF-8 and try again")
    except OSError as error:
        return _whole_file(file, f"cannot be read: {error.strerror or error}")
    parsed = parse_csv(file, text) if suffix in CSV_SUFFIXES else parse_yaml(file, text)
    if not parsed.rows and not parsed.problems:
        # An empty directory would make --deactivate-missing switch everyone off.
        return _whole_file(file, "lists nobody; add at least one person")
    return parsed


def _whole_file(file: str, message: str) -> ParsedOrg:
    return ParsedOrg(file, [], [OrgProblem(file, 0, "", message)])


def _cell(value: str) -> str | None:
    value = value.strip()
    return value or None


def parse_csv(file: str, text: str) -> ParsedOrg:
    """A header line naming the columns, then one person per line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[OrgProblem] = []
    rows: list[OrgRow] = []
    header: list[str] | None = None
    header_line = 0
    previous_end = 0
    try:
        for record in reader:
            # A quoted value may span lines: the record starts right after the previous one ended.
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in record], start
                problems.extend(_check_header(file, header_line, header))
                if any(required not in header for required in REQUIRED_FIELDS):
                    return ParsedOrg(file, [], problems)
                continue
            if len(record) > len(header):
                problems.append(
                    OrgProblem(
                        file,
                        start,
                        "",
                        f"row has {len(record)} values but the header on line {header_line} "
                        f"names {len(header)} columns; quote values that contain commas",
                    )
                )
                continue
            values = {column: _cell(cell) for column, cell in zip(header, record) if column in KNOWN_FIELDS}
            # A short row leaves its trailing columns empty rather than unmentioned.
            values.update({c: None for c in header[len(record) :] if c in KNOWN_FIELDS})
            rows.append(OrgRow(file, start, values))
    except csv.Error as error:
        problems.append(OrgProblem(file, reader.line_num, "", f"not valid CSV: {error}"))
    return ParsedOrg(file, rows, problems)


def _check_header(file: str, line: int, header: list[str]) -> list[OrgProblem]:
    problems: list[OrgProblem] = []
    seen: set[str] = set()
    for column in header:
        if not column:
            problems.append(OrgProblem(file, line, "", "a column has no name; remove the extra comma"))
        elif column in seen:
            problems.append(OrgProblem(file, line, column, "column appears twice in the header"))
        elif column not in KNOWN_FIELDS:
            problems.append(OrgProblem(file, line, column, f"unknown column; expected {_EXPECTED}"))
        seen.add(column)
    for required in REQUIRED_FIELDS:
        if required not in seen:
            problems.append(OrgProblem(file, line, required, "missing column; the header must name it"))
    return problems


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def parse_yaml(file: str, text: str) -> ParsedOrg:
    """`people:` followed by a list of mappings with the same keys as the CSV columns.

    Composed rather than loaded, so every node still knows its line.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        reason = error.problem or "syntax error"
        if error.context and error.context_mark:
            # "while parsing a flow sequence (line 3): expected ',' or ']'": where it began.
            reason = f"{error.context} (line {error.context_mark.line + 1}): {reason}"
        return ParsedOrg(file, [], [OrgProblem(file, line, "", f"not valid YAML: {reason}")])
    except yaml.YAMLError as error:
        return _whole_file(file, f"not valid YAML: {error}")
    if root is None:
        return ParsedOrg(file, [], [])
    if not isinstance(root, MappingNode):
        return ParsedOrg(
            file, [], [OrgProblem(file, _line(root), "", "expected `people:` followed by a list of people")]
        )

    problems: list[OrgProblem] = []
    people: Node | None = None
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "people":
            people = value
        else:
            name = key.value if isinstance(key, ScalarNode) else "?"
            problems.append(OrgProblem(file, _line(key), name, "unknown key; the file holds only `people:`"))
    if people is None:
        problems.append(OrgProblem(file, _line(root), "people", "missing; list the people under `people:`"))
        return ParsedOrg(file, [], problems)
    if isinstance(people, ScalarNode) and people.tag == _YAML_NULL:
        return ParsedOrg(file, [], problems)
    if not isinstance(people, SequenceNode):
        problems.append(OrgProblem(file, _line(people), "people", "expected a list of people (`- email: …`)"))
        return ParsedOrg(file, [], problems)

    rows: list[OrgRow] = []
    for item in people.value:
        row = _yaml_row(file, item, problems)
        if row is not None:
            rows.append(row)
    return ParsedOrg(file, rows, problems)


def _yaml_row(file: str, item: Node, problems: list[OrgProblem]) -> OrgRow | None:
    if not isinstance(item, MappingNode):
        problems.append(OrgProblem(file, _line(item), "", "expected a person as `key: value` lines"))
        return None
    values: dict[str, str | None] = {}
    field_lines: dict[str, int] = {}
    unreadable: set[str] = set()
    for key, value in item.value:
        name = key.value.strip().lower() if isinstance(key, ScalarNode) else ""
        if name not in KNOWN_FIELDS:
            problems.append(OrgProblem(file, _line(key), name or "?", f"unknown key; expected {_EXPECTED}"))
            continue
        if name in field_lines:
            problems.append(OrgProblem(file, _line(key), name, f"given twice (first on line {field_lines[name]})"))
            continue
        field_lines[name] = _line(value)
        if not isinstance(value, ScalarNode):
            problems.append(OrgProblem(file, _line(value), name, "expected a single value, not a list or mapping"))
            unreadable.add(name)
            continue
        values[name] = None if value.tag == _YAML_NULL else _cell(value.value)
    return OrgRow(file, _line(item), values, field_lines, frozenset(unreadable))
