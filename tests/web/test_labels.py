"""People read the program's words, not its keys: flag kinds, check-in categories and expense
categories (both labelled by the policy file) as labels on every page and email that shows them,
and counts in proper plurals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from activities.mail.claim_mail import _claim_context
from learningday.contracts.claims import ClaimSummary
from learningday.db.models import ClaimState
from learningday.labels import count, expense_label, flag_label
from learningday.policy_source import current_policy
from learningday.settings import get_settings
from learningday.web import claims
from learningday.web.claims import claim_form_url
from tests.web.conftest import RANGE, THURSDAY, WEEK, Org, add_claim, add_day, add_flag, form_token, sign_in

KEYS = re.compile(r">\s*(missed_summary|missed summary|side_research|books|courses)\s*<")


def _history(session: Session, org: Org) -> None:
    day = add_day(session, org.linus, THURSDAY - WEEK, plan="Bayesian statistics", category="side_research")
    add_flag(session, day)
    add_claim(session, org.linus, "120.00", ClaimState.pending, category="courses")
    add_claim(session, org.linus, "20.00", ClaimState.approved, category="books")
    session.commit()


def test_the_team_page_names_flags_and_claim_categories_in_words(
    client: TestClient, session: Session, org: Org
) -> None:
    _history(session, org)
    page = sign_in(client, org.barbara).get("/team").text
    assert "No summary posted" in page and "Courses" in page
    assert KEYS.findall(page) == []


def test_a_persons_page_labels_its_flags_plan_categories_and_claims(
    client: TestClient, session: Session, org: Org
) -> None:
    _history(session, org)
    page = sign_in(client, org.barbara).get(f"/people/{org.linus.id}").text
    assert "No summary posted" in page
    assert "A small side research project" in page  # the policy's label for side_research
    assert "Books" in page and "Courses" in page
    assert KEYS.findall(page) == []


def test_the_days_overview_labels_plan_categories(client: TestClient, session: Session, org: Org) -> None:
    _history(session, org)
    page = sign_in(client, org.ada).get(f"/?date={THURSDAY - WEEK}").text
    assert "A small side research project" in page and "No summary posted" in page
    assert KEYS.findall(page) == []


def test_the_claim_form_counts_its_problems_in_words(
    client: TestClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object) -> SimpleNamespace:  # the checks' answer, without a Temporal server
        return SimpleNamespace(ok=False, problems={"amount": "Enter an amount.", "description": "Say what it is."})

    async def no_client(request: object) -> None:
        return None

    monkeypatch.setattr(claims, "submit_claim", refuse)
    monkeypatch.setattr(claims, "temporal_client", no_client)
    path = "/claims/new/" + claim_form_url(org.alan.id).rsplit("/", 1)[1]
    form = client.get(path).text
    field, token = form_token(form)
    assert ">Books (up to" in form
    refused = client.post(path, data={"amount": "", "currency": "USD", "category": "", "description": "", field: token})
    assert refused.status_code == 422
    assert "2 things to fix below" in refused.text
    assert "thing(s)" not in refused.text


def test_labels_for_keys_and_counts() -> None:
    assert flag_label("missed_plan") == "No plan posted"
    assert flag_label("some_new_kind") == "Some new kind"
    assert expense_label("books", {"books": "Books and e-books"}) == "Books and e-books"
    assert expense_label("conference_travel", {}) == "Conference travel"
    assert [count(1, "thing"), count(2, "thing"), count(0, "person", "people")] == ["1 thing", "2 things", "0 people"]


LABELLED = """
[reimbursement.categories.books]
cap = 200
label = "Books and e-books"

[reimbursement.categories.conference_travel]
cap = 900
receipt_required = false
"""


@pytest.fixture
def labelled_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A policy file labelling `books` and leaving `conference_travel` without a label."""
    path = tmp_path / "policy.toml"
    path.write_text(LABELLED, encoding="utf-8")
    monkeypatch.setenv("LEARNINGDAY_POLICY_FILE", str(path))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_expense_categories_read_as_the_policy_file_labels_them_on_pages(
    client: TestClient, session: Session, org: Org, labelled_policy: None
) -> None:
    add_claim(session, org.linus, "20.00", ClaimState.pending, category="books")
    add_claim(session, org.linus, "300.00", ClaimState.approved, category="conference_travel")
    session.commit()
    barbara = sign_in(client, org.barbara)

    team = barbara.get("/team").text
    person = barbara.get(f"/people/{org.linus.id}").text
    form = client.get("/claims/new/" + claim_form_url(org.alan.id).rsplit("/", 1)[1]).text
    program = sign_in(client, org.ada).get("/program", params=RANGE).text

    assert "Books and e-books" in team and "Books and e-books" in person
    assert "Conference travel" in person  # no label in the file: the key as words
    assert ">Books and e-books (up to" in form and ">Conference travel (up to" in form
    assert ">Conference travel<" in program  # the approved-spend chart's bar
    assert ">Books<" not in team + person + form


def test_a_claim_email_names_the_category_as_the_policy_file_labels_it(labelled_policy: None) -> None:
    claim = ClaimSummary(
        claim_id=1,
        person_id=1,
        claimant_name="Bob",
        claimant_email="bob@example.com",
        amount=Decimal("20"),
        currency="USD",
        base_amount=Decimal("20"),
        category="books",
        description="SICP",
        submitted_at=dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
    )
    assert _claim_context(claim, current_policy())["category"] == "Books and e-books"
