"""Importing an org file into the database: people, managers, re-imports, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from learningday.db.models import AuditEntry, Person, Role
from learningday.org import import_org
from tests.org.conftest import HEADER, WriteFile, directory, row_counts

# The report comes before the manager on purpose: links are resolved once everyone exists.
GOOD_CSV = f"""
{HEADER}
ann@example.com,Ann Able,America/Los_Angeles,lead@example.com,Platform,
lead@example.com,Lee Lead,Europe/London,,Platform,U0LEAD1
bob@example.com,Bob Baker,UTC,lead@example.com,Platform,
"""

GOOD_YAML = """
people:
  - email: ann@example.com
    name: Ann Able
    timezone: America/Los_Angeles
    manager_email: lead@example.com
    team: Platform
  - email: lead@example.com
    name: Lee Lead
    timezone: Europe/London
    team: Platform
    slack_id: U0LEAD1
    role: admin
  - email: bob@example.com
    name: Bob Baker
    timezone: UTC
    manager_email: lead@example.com
    team: Platform
"""


def _import(engine: Engine, path: Path, **options: object):  # type: ignore[no-untyped-def]
    """One import in its own committed transaction, as the CLI runs it."""
    with Session(engine) as session:
        report = import_org(session, path, **options)  # type: ignore[arg-type]
        session.commit()
    return report


@pytest.mark.parametrize(("name", "text"), [("org.csv", GOOD_CSV), ("org.yaml", GOOD_YAML)])
def test_good_file_creates_people_with_managers_linked(
    engine: Engine, write_file: WriteFile, name: str, text: str
) -> None:
    report = _import(engine, write_file(name, text))

    assert report.problems == []
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert directory(engine) == {
        "ann@example.com": ("Ann Able", "Platform", "lead@example.com", "America/Los_Angeles", True),
        "lead@example.com": ("Lee Lead", "Platform", None, "Europe/London", True),
        "bob@example.com": ("Bob Baker", "Platform", "lead@example.com", "UTC", True),
    }
    with Session(engine) as session:
        lead = session.scalars(select(Person).where(Person.email == "lead@example.com")).one()
        assert lead.slack_user_id == "U0LEAD1"
        assert lead.role is (Role.admin if name.endswith(".yaml") else Role.learner)


def test_reimport_with_changed_team_updates_without_duplicating(engine: Engine, write_file: WriteFile) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))
    moved = GOOD_CSV.replace("Bob Baker,UTC,lead@example.com,Platform", "Bob Baker,UTC,lead@example.com,Research")

    report = _import(engine, write_file("org.csv", moved))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert report.summary() == "created 0, updated 1, unchanged 2"
    people = directory(engine)
    assert len(people) == 3
    assert people["bob@example.com"][1] == "Research"
    assert people["ann@example.com"][1] == "Platform"


def test_reimport_matches_email_case_insensitively(engine: Engine, write_file: WriteFile) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))

    report = _import(engine, write_file("org.csv", GOOD_CSV.replace("ann@example.com", "Ann@Example.COM")))

    assert (report.created, report.unchanged) == (0, 3)
    assert len(directory(engine)) == 3


def test_each_created_or_updated_person_gets_one_audit_entry_naming_changed_fields(
    engine: Engine, write_file: WriteFile
) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))
    _import(engine, write_file("org.csv", GOOD_CSV.replace("Bob Baker,UTC", "Bob Baker,Europe/Berlin")))

    with Session(engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        bob = session.scalars(select(Person).where(Person.email == "bob@example.com")).one()
    assert [e.action for e in entries] == ["person_created"] * 3 + ["person_updated"]
    assert {e.actor for e in entries} == {"cli:org-import"}
    assert entries[-1].subject_type == "person"
    assert entries[-1].subject_id == str(bob.id)
    assert entries[-1].details["fields"] == ["timezone"]
    assert "bob" not in str(entries[-1].details).lower()


def test_people_missing_from_the_file_are_left_alone_by_default(engine: Engine, write_file: WriteFile) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))
    without_bob = "\n".join(line for line in GOOD_CSV.splitlines() if not line.startswith("bob"))

    report = _import(engine, write_file("org.csv", without_bob))

    assert report.deactivated == 0
    assert directory(engine)["bob@example.com"][4] is True


def test_deactivate_missing_switches_off_people_not_in_the_file(engine: Engine, write_file: WriteFile) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))
    without_bob = "\n".join(line for line in GOOD_CSV.splitlines() if not line.startswith("bob"))

    report = _import(engine, write_file("org.csv", without_bob), deactivate_missing=True)

    assert (report.deactivated, report.unchanged) == (1, 2)
    assert report.summary() == "created 0, updated 0, unchanged 2, deactivated 1"
    assert directory(engine)["bob@example.com"][4] is False
    with Session(engine) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last is not None and last.action == "person_deactivated"


def test_dry_run_counts_changes_and_writes_nothing(engine: Engine, write_file: WriteFile) -> None:
    report = _import(engine, write_file("org.csv", GOOD_CSV), dry_run=True)

    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert row_counts(engine) == (0, 0)


def test_manager_already_in_the_database_is_accepted(engine: Engine, write_file: WriteFile) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))
    newcomer = write_file(
        "new.csv", f"{HEADER}\ncat@example.com,Cat Cole,Pacific/Auckland,LEAD@example.com,Platform,\n"
    )

    report = _import(engine, newcomer)

    assert report.problems == []
    assert directory(engine)["cat@example.com"][2] == "lead@example.com"


def test_fields_the_file_does_not_mention_keep_their_stored_values(engine: Engine, write_file: WriteFile) -> None:
    _import(engine, write_file("org.yaml", GOOD_YAML))
    # No slack_id and no role: the lead keeps both.
    _import(engine, write_file("org.yaml", GOOD_YAML.replace("    slack_id: U0LEAD1\n    role: admin\n", "")))

    with Session(engine) as session:
        lead = session.scalars(select(Person).where(Person.email == "lead@example.com")).one()
    assert (lead.slack_user_id, lead.role) == ("U0LEAD1", Role.admin)


def test_demo_org_imports_cleanly() -> None:
    """The shipped demo file is valid on its own (checked without a database)."""
    from learningday.org.parse import read_org_file
    from learningday.org.validate import validate_rows

    demo = Path(__file__).parents[2] / "learningday" / "demo" / "org.yaml"
    parsed = read_org_file(demo)

    assert parsed.problems == [] and validate_rows(parsed.rows, {}) == []
    timezones = {row.values["timezone"] for row in parsed.rows}
    assert {"America/Los_Angeles", "Europe/Berlin", "Pacific/Auckland"} <= timezones
    assert {row.values.get("role") for row in parsed.rows} >= {"admin", "finance"}
    assert all("slack_id" not in row.values for row in parsed.rows)


def test_demo_org_links_every_report_to_a_manager(engine: Engine) -> None:
    demo = Path(__file__).parents[2] / "learningday" / "demo" / "org.yaml"

    report = _import(engine, demo)

    people = directory(engine)
    assert report.created == len(people) == 10
    assert [email for email, person in people.items() if person[2] is None] == ["owner@example.com"]


def test_existing_person_can_move_under_a_manager_created_by_the_same_file(
    engine: Engine, write_file: WriteFile
) -> None:
    _import(engine, write_file("org.csv", GOOD_CSV))
    reorg = GOOD_CSV.replace(
        "bob@example.com,Bob Baker,UTC,lead@example.com,Platform,",
        "bob@example.com,Bob Baker,UTC,new.lead@example.com,Platform,\nnew.lead@example.com,Nia Lead,UTC,,Platform,",
    ).replace(
        "ann@example.com,Ann Able,America/Los_Angeles,lead@example.com", "ann@example.com,Ann Able,America/Los_Angeles,"
    )

    report = _import(engine, write_file("org.csv", reorg))

    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    people = directory(engine)
    assert people["bob@example.com"][2] == "new.lead@example.com"
    assert people["ann@example.com"][2] is None
