"""Filing a claim: validate it, keep the receipt, create the row and start its workflow — or do
none of it.

Every front door (web form, CLI, Slack) calls `submit_claim`, so all refuse the same things with
the same words. The row and the receipt exist only if the workflow started: a failure to start
removes both, so nothing is ever half-created.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from temporalio.client import Client

from activities.records.claims import audit, routing_people, spent_this_year
from learningday.claims.receipts import receipt_problem, receipt_type, store_receipt
from learningday.db.engine import session_scope
from learningday.db.models import AuditEntry, ClaimState, ExpenseClaim, Person
from policies.policy import Policy
from policies.reimbursement import (
    ClaimDraft,
    NoApprover,
    approval_chain,
    claim_problems,
    in_base_currency,
    parse_amount,
    remaining_budget,
)
from workflows.reimbursement import (
    ReimbursementInput,
    ReimbursementWorkflow,
    workflow_id_for,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimSubmission:
    person_email: str
    amount: str
    currency: str
    category: str
    description: str
    link: str | None = None
    topic: str | None = None
    learning_day_id: int | None = None
    receipt: bytes | None = None


@dataclass(frozen=True)
class SubmitResult:
    claim_id: int | None
    problems: dict[str, str] = field(default_factory=dict)
    remaining: Decimal | None = None  # the person's remaining budget before this claim
    currency: str = ""

    @property
    def ok(self) -> bool:
        return self.claim_id is not None


async def submit_claim(
    client: Client,
    task_queue: str,
    submission: ClaimSubmission,
    policy: Policy,
    data_dir: Path,
    time_scale: float = 1.0,
) -> SubmitResult:
    """File the claim and start its approval; a result with `problems` when it is refused."""
    result, receipt_path = await asyncio.to_thread(_create, submission, policy, data_dir)
    if result.claim_id is None:
        return result
    try:
        await client.start_workflow(
            ReimbursementWorkflow.run,
            ReimbursementInput(claim_id=result.claim_id, time_scale=time_scale),
            id=workflow_id_for(result.claim_id),
            task_queue=task_queue,
        )
    except Exception:
        log.exception("claim %s: starting its workflow failed; removing the claim", result.claim_id)
        await asyncio.to_thread(_undo, result.claim_id, receipt_path)
        return SubmitResult(
            None,
            {"service": "The claim could not be filed right now (the approval service is unreachable); nothing was saved. Please try again."},
            result.remaining,
            result.currency,
        )
    return result


def _create(submission: ClaimSubmission, policy: Policy, data_dir: Path) -> tuple[SubmitResult, Path | None]:
    rules = policy.reimbursement
    now = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        person = session.scalar(
            select(Person).where(Person.email == submission.person_email.strip().lower(), Person.active.is_(True))
        )
        if person is None:
            return SubmitResult(None, {"person": f"Nobody called {submission.person_email!r} takes part: check the email."}), None
        spent = spent_this_year(session, person.id, now.year)
        remaining = remaining_budget(policy, spent)
        problems: dict[str, str] = {}
        if submission.receipt is not None:
            problem = receipt_problem(submission.receipt)
            if problem:
                problems["receipt"] = problem
        draft = ClaimDraft(
            amount=submission.amount, currency=submission.currency, category=submission.category,
            description=submission.description, has_receipt=bool(submission.receipt), link=submission.link,
        )  # fmt: skip
        problems = {**claim_problems(policy, draft, spent), **problems}
        if problems:
            return SubmitResult(None, problems, remaining, rules.currency), None
        amount = parse_amount(submission.amount)
        assert isinstance(amount, Decimal)
        currency = submission.currency.strip().upper()
        base = in_base_currency(policy, amount, currency)
        assert base is not None
        try:
            approval_chain(policy, base, *routing_people(session, person, policy))
        except NoApprover as problem:
            return SubmitResult(None, {"approver": str(problem)}, remaining, rules.currency), None
        receipt_path = store_receipt(data_dir, submission.receipt) if submission.receipt else None
        try:
            claim = ExpenseClaim(
                person_id=person.id, amount=amount, currency=currency, base_amount=base,
                category=submission.category, description=submission.description.strip(),
                link=(submission.link or None), topic=(submission.topic or None),
                learning_day_id=submission.learning_day_id,
                receipt_path=str(receipt_path) if receipt_path else None,
                receipt_content_type=_content_type(submission.receipt),
                receipt_size=len(submission.receipt) if submission.receipt else None,
                state=ClaimState.pending, submitted_at=now,
            )  # fmt: skip
            session.add(claim)
            session.flush()
            claim.workflow_id = workflow_id_for(claim.id)
            audit(session, person.email, "claim_submitted", claim.id, amount=str(amount), currency=currency)
            session.flush()
            return SubmitResult(claim.id, {}, remaining, rules.currency), receipt_path
        except BaseException:
            if receipt_path:
                receipt_path.unlink(missing_ok=True)
            raise


def _undo(claim_id: int, receipt_path: Path | None) -> None:
    with session_scope() as session:
        for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.subject_type == "expense_claim", AuditEntry.subject_id == str(claim_id))
        ):
            session.delete(entry)
        claim = session.get(ExpenseClaim, claim_id)
        if claim is not None:
            session.delete(claim)
    if receipt_path:
        receipt_path.unlink(missing_ok=True)


def _content_type(receipt: bytes | None) -> str | None:
    kind = receipt_type(receipt) if receipt else None
    return kind[0] if kind else None
