"""Org-import fixtures: write an org file in one line, and read the directory back."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from learningday.db.models import AuditEntry, Person

HEADER = "email,name,timezone,manager_email,team,slack_id"

WriteFile = Callable[[str, str], Path]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write `text` (dedented; its first line is line 1) to a file called `name`."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def directory(engine: Engine) -> dict[str, tuple[str, str | None, str | None, str, bool]]:
    """Everyone as email → (name, team, manager's email, timezone, active), read afresh."""
    with Session(engine) as session:
        people = {p.id: p for p in session.scalars(select(Person))}
        return {
            p.email: (
                p.name,
                p.team,
                people[p.manager_id].email if p.manager_id else None,
                p.timezone,
                p.active,
            )
            for p in people.values()
        }


def row_counts(engine: Engine) -> tuple[int, int]:
    """(people, audit entries): what a refused import must leave as it found."""
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )
