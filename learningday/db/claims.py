"""Claim queries shared by the claim activities and the claim service: the budget spent, the
people a claim is routed to (with their absences and delegates), and the claim's audit entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learningday.db.models import Absence, AuditEntry, ClaimState, ExpenseClaim, Person
from policies.policy import Policy
from policies.reimbursement import Approver

COMMITTED = (ClaimState.pending, ClaimState.approved)


def spent_this_year(session: Session, person_id: int, year: int) -> Decimal:
    """Approved and pending claims filed in `year`, in the policy currency (the budget's use)."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    total = session.scalar(
        select(func.coalesce(func.sum(func.coalesce(ExpenseClaim.base_amount, ExpenseClaim.amount)), 0)).where(
            ExpenseClaim.person_id == person_id,
            ExpenseClaim.state.in_(COMMITTED),
            ExpenseClaim.submitted_at >= start,
            ExpenseClaim.submitted_at < end,
        )
    )
    return Decimal(str(total)).quantize(Decimal("0.01"))


def audit(session: Session, actor: str, action: str, claim_id: int, **details: Any) -> None:
    session.add(
        AuditEntry(actor=actor, action=action, subject_type="expense_claim", subject_id=str(claim_id), details=details)
    )


def routing_people(
    session: Session, person: Person, policy: Policy
) -> tuple[Approver, Approver | None, Approver | None, Approver | None]:
    """The claimant, their manager, their manager's manager and finance, as approvers today."""
    manager = person.manager
    managers_manager = manager.manager if manager else None
    finance = _by_email(session, policy.reimbursement.finance_email)
    today = dt.datetime.now(dt.UTC).date()
    claimant = _approver(session, person, policy, today, depth=0)
    assert claimant is not None
    return (
        claimant,
        _approver(session, manager, policy, today),
        _approver(session, managers_manager, policy, today),
        _approver(session, finance, policy, today),
    )


def _by_email(session: Session, email: str | None) -> Person | None:
    if not email:
        return None
    return session.scalar(select(Person).where(Person.email == email.lower(), Person.active.is_(True)))


def _approver(
    session: Session, person: Person | None, policy: Policy, today: dt.date, depth: int = 1
) -> Approver | None:
    """`person` as an approver: out of office if an absence covers today; delegate per policy."""
    if person is None:
        return None
    out = (
        depth > 0
        and session.scalar(
            select(Absence.id).where(
                Absence.person_id == person.id, Absence.start_date <= today, Absence.end_date >= today
            )
        )
        is not None
    )
    delegate = None
    if out:
        configured = policy.reimbursement.delegates.get(person.email)
        stand_in = _by_email(session, configured) if configured else person.manager
        delegate = _approver(session, stand_in, policy, today, depth=0) if stand_in else None
    return Approver(person_id=person.id, email=person.email, name=person.name, out_of_office=out, delegate=delegate)
