"""What an import would change, worked out before anything is written.

Pure, so `--dry-run` reports exactly what a real run does. The rule for each field: a field
the file mentions is set to what the file says (an empty value clears it); a field the file
does not mention at all (no such column, no such key) keeps what the database holds. That way
a file without `slack_id` never wipes ids found since, and one without `role` never demotes an
admin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from learningday.db.models import Role
from learningday.org.rows import OrgRow
from learningday.org.validate import normalise_email, parse_active, parse_role

ChangeKind = Literal["create", "update", "unchanged", "deactivate"]

# File field → the Person attribute it sets. `manager` holds the manager's email until the
# importer resolves it to an id, once everyone exists.
ATTRIBUTE_OF_FIELD: dict[str, str] = {
    "name": "name",
    "timezone": "timezone",
    "manager_email": "manager",
    "team": "team",
    "slack_id": "slack_user_id",
    "role": "role",
    "active": "active",
}


@dataclass(frozen=True)
class StoredPerson:
    """A person already in the database, with their manager as an email for comparison."""

    id: int
    email: str
    name: str
    timezone: str
    manager: str | None
    team: str | None
    slack_user_id: str | None
    role: Role
    active: bool


@dataclass(frozen=True)
class PersonChange:
    kind: ChangeKind
    email: str  # normalised
    line: int | None  # None for people the file does not list
    person_id: int | None = None  # None until created
    # For "create": every attribute; for "update"/"deactivate": only the changed ones.
    values: dict[str, object] = field(default_factory=dict)


def _desired(row: OrgRow) -> dict[str, object]:
    """The attribute values a validated row asks for, only for the fields it mentions."""
    desired: dict[str, object] = {}
    for name, attribute in ATTRIBUTE_OF_FIELD.items():
        if name not in row.values:
            continue
        raw = row.values[name]
        if name == "manager_email":
            desired[attribute] = normalise_email(raw) if raw is not None else None
        elif name == "role":
            desired[attribute] = parse_role(raw)
        elif name == "active":
            desired[attribute] = parse_active(raw)
        else:
            desired[attribute] = raw
    return desired


def plan_import(
    rows: Sequence[OrgRow], stored: Mapping[str, StoredPerson], *, deactivate_missing: bool = False
) -> list[PersonChange]:
    """One change per row (rows must have passed validation), then the deactivations."""
    defaults: dict[str, object] = {
        "manager": None,
        "team": None,
        "slack_user_id": None,
        "role": Role.learner,
        "active": True,
    }
    changes: list[PersonChange] = []
    listed: set[str] = set()
    for row in rows:
        email = normalise_email(row.values["email"] or "")
        listed.add(email)
        desired = _desired(row)
        existing = stored.get(email)
        if existing is None:
            changes.append(PersonChange("create", email, row.line, None, defaults | desired))
            continue
        changed = {attribute: value for attribute, value in desired.items() if getattr(existing, attribute) != value}
        kind: ChangeKind = "update" if changed else "unchanged"
        changes.append(PersonChange(kind, email, row.line, existing.id, changed))
    if deactivate_missing:
        for email, person in stored.items():
            if email not in listed and person.active:
                changes.append(PersonChange("deactivate", email, None, person.id, {"active": False}))
    return changes
