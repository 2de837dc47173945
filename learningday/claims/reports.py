"""What payroll and people ask about claims: approved claims as CSV, and a person's budget."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from learningday.csv_export import to_csv
from learningday.db.claims import spent_this_year
from learningday.db.engine import session_scope
from learningday.db.models import ClaimState, ExpenseClaim, Person
from policies.policy import Policy
from policies.reimbursement import remaining_budget

EXPORT_COLUMNS = [
    "claim_id",
    "email",
    "name",
    "submitted_on",
    "approved_on",
    "category",
    "description",
    "amount",
    "currency",
    "amount_in_base",
    "base_currency",
]


def approved_claims_csv(policy: Policy, year: int) -> str:
    """Every claim approved in `year` (by decision date), one row each, for payroll.

    Names, categories and descriptions are what people typed: `to_csv` writes any that would
    start a spreadsheet formula as text."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    with session_scope() as session:
        rows = session.execute(
            select(ExpenseClaim, Person)
            .join(Person, ExpenseClaim.person_id == Person.id)
            .where(
                ExpenseClaim.state == ClaimState.approved,
                ExpenseClaim.decided_at >= start,
                ExpenseClaim.decided_at < end,
            )
            .order_by(ExpenseClaim.decided_at, ExpenseClaim.id)
        ).all()
        return to_csv(
            EXPORT_COLUMNS,
            [
                [
                    claim.id,
                    person.email,
                    person.name,
                    claim.submitted_at.date(),
                    claim.decided_at.date() if claim.decided_at else None,
                    claim.category,
                    claim.description,
                    Decimal(claim.amount),
                    claim.currency,
                    Decimal(claim.base_amount if claim.base_amount is not None else claim.amount),
                    policy.reimbursement.currency,
                ]
                for claim, person in rows
            ],
        )


@dataclass(frozen=True)
class Balance:
    email: str
    year: int
    currency: str
    budget: Decimal
    approved: Decimal
    pending: Decimal
    remaining: Decimal


def balance(policy: Policy, email: str, year: int) -> Balance | None:
    with session_scope() as session:
        person = session.scalar(select(Person).where(Person.email == email.strip().lower()))
        if person is None:
            return None
        committed = spent_this_year(session, person.id, year)
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        pending = session.scalar(
            select(func.coalesce(func.sum(func.coalesce(ExpenseClaim.base_amount, ExpenseClaim.amount)), 0)).where(
                ExpenseClaim.person_id == person.id,
                ExpenseClaim.state == ClaimState.pending,
                ExpenseClaim.submitted_at >= start,
                ExpenseClaim.submitted_at < start.replace(year=year + 1),
            )
        )
    pending = Decimal(str(pending)).quantize(Decimal("0.01"))
    rules = policy.reimbursement
    return Balance(
        person.email,
        year,
        rules.currency,
        rules.annual_budget,
        committed - pending,
        pending,
        remaining_budget(policy, committed),
    )
