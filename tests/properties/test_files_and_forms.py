"""Policy files, org files and expense forms of every shape: each bad one is answered with
errors that name the field (and the line, where there is one), and nothing ever raises."""

from __future__ import annotations

import string
from decimal import Decimal
from pathlib import Path

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learningday.db.models import Person
from learningday.org.importer import import_org
from learningday.org.rows import KNOWN_FIELDS
from policies.loader import check_policy_text
from policies.policy import Policy
from policies.reimbursement import ClaimDraft, claim_problems
from tests.properties.conftest import tried

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=20),
    st.lists(st.text(max_size=8), max_size=3),
    st.sampled_from(["09:00", "25:61", "Thursday", "EUR", "", "-1"]),
)
SECTIONS = {
    name: list(type(getattr(Policy(), name)).model_fields)
    for name in Policy.model_fields
    if hasattr(type(getattr(Policy(), name)), "model_fields")
}


@st.composite
def policy_documents(draw: st.DrawFn) -> str:
    """Known sections and keys (and the odd unknown one) with values of any type."""
    doc = tomlkit.document()
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), min_size=1, max_size=4, unique=True)):
        keys = draw(st.lists(st.sampled_from(SECTIONS[section] + ["no_such_key"]), min_size=1, max_size=4, unique=True))
        doc[section] = {key: draw(scalars) for key in keys}
    return tomlkit.dumps(doc)


@EXAMPLES
@given(policy_documents())
def test_a_policy_with_wrong_values_names_every_field_and_its_line(text: str) -> None:
    tried("policy file: known keys, random values")
    for error in check_policy_text(text, "policy.toml"):
        assert error.field, f"an error without a field: {error}"
        assert error.line is not None, f"an error without a line: {error}"
        assert error.message.strip()


@EXAMPLES
@given(st.text(max_size=300), st.sampled_from(["policy.toml", "policy.yaml"]))
def test_any_text_as_a_policy_file_gives_errors_not_exceptions(text: str, name: str) -> None:
    tried("policy file: random text")
    for error in check_policy_text(text, name):
        assert error.message.strip() and error.file == name


amounts = st.one_of(
    st.text(max_size=12),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["0", "-5", "1e9", "12.345", "NaN", "Infinity", "1_000", "٣", "12,50", " 7 ", "0x10"]),
)


@EXAMPLES
@given(
    amount=amounts,
    currency=st.one_of(st.text(max_size=5), st.sampled_from(["USD", "EUR", "usd", "XXX", ""])),
    category=st.one_of(st.text(max_size=10), st.sampled_from(["books", "tutors", "courses", "Books"])),
    description=st.text(max_size=50),
    has_receipt=st.booleans(),
    spent=st.decimals(min_value=0, max_value=10**6, places=2),
)
def test_any_expense_form_gives_field_errors_and_never_raises(
    amount: str, currency: str, category: str, description: str, has_receipt: bool, spent: Decimal
) -> None:
    tried("expense form")
    draft = ClaimDraft(
        amount=amount, currency=currency, category=category, description=description, has_receipt=has_receipt
    )
    problems = claim_problems(Policy(), draft, spent)
    fields = {"amount", "currency", "category", "description", "receipt", "link"}
    assert set(problems) <= fields, problems
    assert all(isinstance(message, str) and message.strip() for message in problems.values())


cells = st.one_of(
    st.text(alphabet=string.printable, max_size=15),
    st.sampled_from(["ada@example.com", "not-an-email", "Europe/Berlin", "Mars/Olympus", "", "admin", "yes", "x@y"]),
)


@st.composite
def org_csv(draw: st.DrawFn) -> str:
    header = draw(st.lists(st.sampled_from(list(KNOWN_FIELDS) + ["shoe_size"]), min_size=1, max_size=8, unique=True))
    rows = draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=5))
    lines = [",".join(header)] + [",".join(f'"{c}"' if "," in c or '"' in c else c for c in row) for row in rows]
    return "\n".join(lines) + "\n"


@EXAMPLES
@given(text=org_csv())
def test_any_org_csv_is_imported_whole_or_refused_whole(text: str, session: Session, tmp_path: Path) -> None:
    tried("org import CSV")
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    before = session.scalar(select(func.count()).select_from(Person))
    with session.begin_nested() as savepoint:
        report = import_org(session, path)
        session.flush()
        after = session.scalar(select(func.count()).select_from(Person))
        if report.problems:
            assert after == before, "a refused file imported someone"
            assert all(p.message.strip() and p.line >= 0 for p in report.problems)  # 0: the whole file
        else:
            assert after == before + report.created
        savepoint.rollback()
