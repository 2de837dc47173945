"""Every check an org file must pass before anything is written, reported all at once.

Pure: the rows and a snapshot of who is already in the directory go in, problems come out,
so an admin fixes the whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from zoneinfo import available_timezones

from learningday.db.models import Role
from learningday.org.rows import REQUIRED_FIELDS, OrgProblem, OrgRow
from policies.text import CONTROL

# Deliberately loose: one @, no spaces, a dot in the domain. Mail delivery is the real test.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Slack user ids are upper-case letters and digits, starting U (or W on Enterprise Grid).
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_ROLES = ", ".join(role.value for role in Role)
# Column sizes in learningday.db.models.Person; PostgreSQL refuses longer values.
_MAX_LENGTH = {"email": 320, "name": 200, "timezone": 64, "team": 120}
# Every field ends up on one line somewhere (an email header, an ICS property, a Slack mention),
# where a control character breaks the line or fails the whole message (policies.text).
_CONTROL_NAMES = {
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a line break",
    "\x85": "a line break",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}

# Who is already in the directory: each email (lower-cased) and their manager's email, if any.
Directory = Mapping[str, str | None]


def normalise_email(value: str) -> str:
    """Emails are matched case-insensitively everywhere; we keep them lower-cased."""
    return value.strip().lower()


def parse_active(value: str | None) -> bool | None:
    """True/false from the spellings spreadsheets and YAML use; None if it is neither."""
    if value is None:
        return True
    lowered = value.strip().lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def parse_role(value: str | None) -> Role | None:
    if value is None:
        return Role.learner
    try:
        return Role(value.strip().lower())
    except ValueError:
        return None


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_rows(
    rows: Sequence[OrgRow], directory: Directory, *, deactivate_missing: bool = False
) -> list[OrgProblem]:
    """All problems with `rows`, given who is already in the directory, in file order."""
    problems: list[OrgProblem] = []
    for row in rows:
        problems.extend(_check_row(row))
    problems.extend(_duplicate_emails(rows))
    problems.extend(_unknown_managers(rows, directory, deactivate_missing))
    problems.extend(_manager_cycles(rows, directory))
    return sorted(problems, key=lambda p: p.line)


def _valid_email(value: str | None) -> bool:
    return (
        value is not None
        and len(value) <= _MAX_LENGTH["email"]
        and bool(_EMAIL.match(value))
        and not CONTROL.search(value)
    )


def control_character_problem(value: str) -> str | None:
    """Why `value` cannot be stored as one line of text, or None when it can.

    The message names the character by code point and position rather than echoing the value,
    so it stays on one line itself.
    """
    found = CONTROL.search(value)
    if found is None:
        return None
    character = found.group()
    what = _CONTROL_NAMES.get(character, "a control character")
    return (
        f"contains {what} (U+{ord(character):04X}) at character {found.start() + 1}; "
        "write it on one line, without tabs or control characters"
    )


def _check_row(row: OrgRow) -> list[OrgProblem]:
    problems: list[OrgProblem] = []
    refused: set[str] = set()
    for name, value in row.values.items():
        problem = control_character_problem(value) if value is not None else None
        if problem is not None:
            problems.append(row.problem(name, problem))
            refused.add(name)
    # A field already refused for its characters is not judged again (not also "not an email").
    values = {name: value for name, value in row.values.items() if name not in refused}
    for name in REQUIRED_FIELDS:
        if values.get(name) is None and name not in row.unreadable and name not in refused:
            problems.append(row.problem(name, "missing; every person needs one"))
    for name, limit in _MAX_LENGTH.items():
        value = values.get(name)
        if value is not None and len(value) > limit:
            problems.append(row.problem(name, f"too long ({len(value)} characters, at most {limit})"))

    email = values.get("email")
    if email is not None and not _valid_email(email):
        problems.append(row.problem("email", f"{email!r} is not an email address"))
    timezone = values.get("timezone")
    if timezone is not None and timezone not in _timezones():
        problems.append(row.problem("timezone", _unknown_timezone(timezone)))
    manager = values.get("manager_email")
    if manager is not None:
        if not _valid_email(manager):
            problems.append(row.problem("manager_email", f"{manager!r} is not an email address"))
        elif email is not None and normalise_email(manager) == normalise_email(email):
            problems.append(row.problem("manager_email", "a person cannot be their own manager"))
    slack_id = values.get("slack_id")
    if slack_id is not None and not _SLACK_ID.match(slack_id):
        problems.append(
            row.problem("slack_id", f"{slack_id!r} is not a Slack user id (like U012AB3CD); leave it empty")
        )
    if parse_role(values.get("role")) is None:
        problems.append(row.problem("role", f"unknown role {values.get('role')!r}; use one of {_ROLES}"))
    if parse_active(values.get("active")) is None:
        problems.append(row.problem("active", f"expected true or false, got {values.get('active')!r}"))
    return problems


def _unknown_timezone(value: str) -> str:
    close = difflib.get_close_matches(value, _timezones(), n=1)
    hint = f"did you mean {close[0]}?" if close else "use an IANA name like Europe/London"
    return f"unknown timezone {value!r}; {hint}"


def _file_emails(rows: Sequence[OrgRow]) -> dict[str, list[OrgRow]]:
    """Rows by normalised email, for rows whose email is valid."""
    by_email: dict[str, list[OrgRow]] = {}
    for row in rows:
        email = row.values.get("email")
        if _valid_email(email):
            assert email is not None
            by_email.setdefault(normalise_email(email), []).append(row)
    return by_email


def _duplicate_emails(rows: Sequence[OrgRow]) -> list[OrgProblem]:
    problems: list[OrgProblem] = []
    for email, same in _file_emails(rows).items():
        if len(same) < 2:
            continue
        for row in same:
            others = ", ".join(str(other.line_of("email")) for other in same if other is not row)
            problems.append(row.problem("email", f"duplicate: {email} is also on line {others}; keep one of them"))
    return problems


def _unknown_managers(rows: Sequence[OrgRow], directory: Directory, deactivate_missing: bool) -> list[OrgProblem]:
    in_file = _file_emails(rows)
    problems: list[OrgProblem] = []
    for row in rows:
        manager = row.values.get("manager_email")
        if not _valid_email(manager):
            continue
        assert manager is not None
        key = normalise_email(manager)
        if key in in_file:
            continue
        if key not in directory:
            problems.append(
                row.problem(
                    "manager_email",
                    f"{manager} is neither in this file nor in the directory; add them to the file",
                )
            )
        elif deactivate_missing:
            problems.append(
                row.problem(
                    "manager_email",
                    f"{manager} is not in this file, so --deactivate-missing would deactivate them; "
                    "add them to the file",
                )
            )
    return problems


def _manager_cycles(rows: Sequence[OrgRow], directory: Directory) -> list[OrgProblem]:
    """Loops in the manager chain, across the file and the directory it is merged into.

    Self-management is reported by the row check; here we find the longer loops (a → b → a),
    including ones closed by a manager link already stored in the database.
    """
    in_file = {email: same[0] for email, same in _file_emails(rows).items()}
    managers: dict[str, str | None] = dict(directory)
    for email, row in in_file.items():
        if "manager_email" not in row.values:
            continue  # not mentioned: the stored manager stays
        manager = row.values["manager_email"]
        valid = _valid_email(manager) and normalise_email(manager or "") != email
        managers[email] = normalise_email(manager or "") if valid else None

    problems: list[OrgProblem] = []
    finished: set[str] = set()
    for start in in_file:
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in finished and current not in on_path:
            on_path[current] = len(path)
            path.append(current)
            current = managers.get(current)
        if current is not None and current in on_path:
            loop = path[on_path[current] :]
            # A loop stored entirely in the database is not this file's doing.
            if any(email in in_file for email in loop):
                problems.append(_cycle_problem(loop, in_file))
        finished.update(path)
    return problems


def _cycle_problem(loop: list[str], in_file: Mapping[str, OrgRow]) -> OrgProblem:
    file_rows = sorted((in_file[email] for email in loop if email in in_file), key=lambda r: r.line)
    first = min(loop, key=lambda email: in_file[email].line if email in in_file else 1 << 62)
    # Start the printed chain at the earliest row, so the message reads from the line it is on.
    at = loop.index(first)
    chain = " → ".join(loop[at:] + loop[:at] + [first])
    lines = ", ".join(str(row.line_of("manager_email")) for row in file_rows)
    stored = [email for email in loop if email not in in_file]
    note = f"; {', '.join(stored)} already in the directory" if stored else ""
    return in_file[first].problem(
        "manager_email",
        f"manager chain loops back: {chain} (lines {lines}{note}); break the loop",
    )
