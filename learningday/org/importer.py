"""Import an org file into the people directory, all or nothing.

The caller owns the transaction (`session_scope()` in the CLI): we read, check everything,
plan, and only then write. A file with any problem writes nothing; re-importing the same file
changes nothing; people are matched by email, case-insensitively, so they are never duplicated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.db.models import AuditEntry, Person
from learningday.org.parse import read_org_file
from learningday.org.plan import PersonChange, StoredPerson, plan_import
from learningday.org.rows import OrgProblem
from learningday.org.validate import normalise_email, validate_rows

ACTOR = "cli:org-import"
logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did (or, with `dry_run`, would do), or why it did nothing."""

    file: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    problems: list[OrgProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """`created 3, updated 1, unchanged 10` (and `deactivated N` when there were any)."""
        parts = [f"created {self.created}", f"updated {self.updated}", f"unchanged {self.unchanged}"]
        if self.deactivated:
            parts.append(f"deactivated {self.deactivated}")
        text = ", ".join(parts)
        return f"dry run, nothing written: would have {text}" if self.dry_run else text


def import_org(
    session: Session,
    path: str | Path,
    dry_run: bool = False,
    *,
    deactivate_missing: bool = False,
    actor: str = ACTOR,
) -> ImportReport:
    """Read, validate and apply `path` inside the caller's transaction; flushes, never commits.

    People absent from the file are left alone unless `deactivate_missing` is set.
    """
    parsed = read_org_file(Path(path))
    report = ImportReport(file=parsed.file, dry_run=dry_run)
    people = _people_by_email(session)
    emails_by_id = {person.id: email for email, person in people.items()}
    stored = {email: _stored(person, emails_by_id) for email, person in people.items()}
    directory = {email: person.manager for email, person in stored.items()}
    problems = parsed.problems + validate_rows(parsed.rows, directory, deactivate_missing=deactivate_missing)
    if problems:
        report.problems = sorted(problems, key=lambda problem: problem.line)
        logger.info("org import refused: %d problems", len(problems))
        return report

    changes = plan_import(parsed.rows, stored, deactivate_missing=deactivate_missing)
    for change in changes:
        if change.kind == "create":
            report.created += 1
        elif change.kind == "update":
            report.updated += 1
        elif change.kind == "deactivate":
            report.deactivated += 1
        else:
            report.unchanged += 1
    if not dry_run:
        _apply(session, changes, people, actor)
    logger.info("org import %s: %s", "planned" if dry_run else "applied", report.summary())
    return report


def _people_by_email(session: Session) -> dict[str, Person]:
    return {normalise_email(person.email): person for person in session.scalars(select(Person))}


def _stored(person: Person, emails_by_id: dict[int, str]) -> StoredPerson:
    return StoredPerson(
        id=person.id,
        email=person.email,
        name=person.name,
        timezone=person.timezone,
        manager=emails_by_id.get(person.manager_id) if person.manager_id is not None else None,
        team=person.team,
        slack_user_id=person.slack_user_id,
        role=person.role,
        active=person.active,
    )


def _apply(session: Session, changes: list[PersonChange], people: dict[str, Person], actor: str) -> None:
    # Everyone first, so a manager listed below their reports (or not yet stored) has an id.
    created: list[tuple[Person, PersonChange]] = []
    for change in changes:
        if change.kind == "create":
            values = {k: v for k, v in change.values.items() if k != "manager"}
            person = Person(email=change.email, **values)
            session.add(person)
            people[change.email] = person
            created.append((person, change))
    session.flush()

    for change in changes:
        if change.kind not in ("create", "update", "deactivate"):
            continue
        person = people[change.email]
        for attribute, value in change.values.items():
            if attribute == "manager":
                person.manager_id = people[str(value)].id if value is not None else None
            elif change.kind != "create":
                if attribute == "active" and person.active and not value:
                    person.session_version += 1  # deactivated: their sessions end everywhere
                setattr(person, attribute, value)
        fields = sorted("manager_id" if a == "manager" else a for a in change.values)
        details: dict[str, object] = {"fields": fields}
        if change.line is not None:
            details["line"] = change.line
        session.add(
            AuditEntry(
                actor=actor,
                action=f"person_{change.kind}d",
                subject_type="person",
                subject_id=str(person.id),
                details=details,
            )
        )
        # Ids only: names and emails stay out of the logs.
        logger.debug("org import: person %d %sd (%s)", person.id, change.kind, ", ".join(fields))
    session.flush()
