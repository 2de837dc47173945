"""Who may see whose records: the one rule every page and export asks.

Learners see their own records, managers also those of everyone below them (reports, their
reports, and so on down the chain), admins everyone. A record outside the viewer's scope is
answered with 404, exactly as a record that does not exist, so an id in a URL reveals nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from fastapi import HTTPException
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from learningday.db.models import Person, Role


class _Everyone(enum.Enum):
    ALL = "all"


ALL: Final = _Everyone.ALL
Scope = set[int] | _Everyone


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as the pages need them."""

    person_id: int
    email: str
    name: str
    role: Role
    manages: bool  # has at least one direct report

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_manager(self) -> bool:
        return self.manages or self.is_admin


def viewer_for(session: Session, person: Person) -> Viewer:
    manages = session.scalar(select(Person.id).where(Person.manager_id == person.id, Person.active.is_(True)).limit(1))
    return Viewer(person.id, person.email, person.name, person.role, manages is not None)


def reports_below(session: Session, manager_id: int) -> set[int]:
    """Everyone whose manager chain reaches `manager_id` (not including them).

    One query for the whole directory, then a walk in memory: the org chart is small next to
    what a page renders, and this stays the same on SQLite and PostgreSQL. Cycles (which the
    importer refuses anyway) cannot loop forever: a person is visited once.
    """
    children: dict[int, list[int]] = {}
    for person_id, boss in session.execute(select(Person.id, Person.manager_id)):
        if boss is not None:
            children.setdefault(boss, []).append(person_id)
    found: set[int] = set()
    frontier = [manager_id]
    while frontier:
        current = frontier.pop()
        for child in children.get(current, []):
            if child not in found and child != manager_id:
                found.add(child)
                frontier.append(child)
    return found


def visible_person_ids(session: Session, viewer: Viewer) -> Scope:
    """The people whose records `viewer` may see: ALL for admins, else themselves and everyone below."""
    if viewer.is_admin:
        return ALL
    return {viewer.person_id} | reports_below(session, viewer.person_id)


def team_scope(session: Session, viewer: Viewer) -> Scope:
    """The people on the viewer's Team page: everyone below them (admins: everyone)."""
    if viewer.is_admin:
        return ALL
    return reports_below(session, viewer.person_id)


def in_scope(column: InstrumentedAttribute[int] | ColumnElement[int], scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a person id) to `scope`."""
    if scope is ALL:
        return true()
    return column.in_(sorted(scope))


def can_see(scope: Scope, person_id: int | None) -> bool:
    return person_id is not None and (scope is ALL or person_id in scope)


def require_visible(scope: Scope, person_id: int | None) -> None:
    """404 unless the record's person is in scope: the same answer as for a missing record."""
    if not can_see(scope, person_id):
        raise HTTPException(status_code=404, detail="Not found.")
