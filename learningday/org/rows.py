"""What an org file becomes once read: rows that remember where they came from, and problems
that say where to look."""

from __future__ import annotations

from dataclasses import dataclass, field

# Every field an org file may carry. The first three are required on every row; the others,
# when left out of the file altogether, leave what the database already holds untouched.
REQUIRED_FIELDS: tuple[str, ...] = ("email", "name", "timezone")
OPTIONAL_FIELDS: tuple[str, ...] = ("manager_email", "team", "slack_id", "role", "active")
KNOWN_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS


@dataclass(frozen=True)
class OrgProblem:
    """One thing wrong with an org file, precise enough to fix without reading any code.

    `line` is 1-based; 0 means the problem is with the file as a whole (unreadable, empty…).
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass(frozen=True)
class OrgRow:
    """One person as written in the file: raw text values, keyed by field name.

    A key missing from `values` means the file does not mention that field for this row;
    a key mapped to None means the file mentions it and leaves it empty.
    """

    file: str
    line: int
    values: dict[str, str | None]
    # Where each field's value sits, when the format can tell (YAML); otherwise the row's line.
    field_lines: dict[str, int] = field(default_factory=dict)
    # Fields given in a shape we could not read (a YAML list where a value belongs), already
    # reported by the parser; validation leaves them alone rather than calling them missing.
    unreadable: frozenset[str] = frozenset()

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)

    def problem(self, name: str, message: str) -> OrgProblem:
        return OrgProblem(self.file, self.line_of(name), name, message)


@dataclass(frozen=True)
class ParsedOrg:
    """The rows read from a file, plus any problems with its shape (unknown columns, bad syntax)."""

    file: str
    rows: list[OrgRow]
    problems: list[OrgProblem]
