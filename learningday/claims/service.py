"""Filing a claim: validate it, keep the receipt, create the row and start its workflow — or do
none of it.

Every front door (web form, CLI, Slack) calls `submit_claim`, so all refuse the same things with
the same words. The row and the receipt exist only if the workflow started: a failure to start
removes both, so nothing is ever half-created.

One truth per decision, in the database, so it holds across threads, processes and replicas:
- the budget check and the insert are one transaction holding the person's budget lock, so two
  claims filed at the same moment (web and Slack) cannot both spend the same remaining budget;
- a front door's idempotency key (Slack's `view.id`, a web form's nonce) is stored with the claim
  (unique): a redelivered submission finds that claim, files nothing, starts no workflow and
  answers with it — once the first delivery's outcome is known (`workflow_id` is written when
  the workflow has started), so a redelivery never says "filed" for a claim about to be removed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import Client

from learningday.claims.receipts import receipt_problem, receipt_type, store_receipt
from learningday.contracts.claims import ReimbursementInput, workflow_id_for
from learningday.db.claims import COMMITTED, audit, routing_people, spent_this_year
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
from workflows.reimbursement import ReimbursementWorkflow

log = logging.getLogger(__name__)
KEY_MAX = 200  # expense_claims.submission_key
KEY_TAKEN = "This form was already used to file a claim: open a new form and file it again."
NOT_FILED = (
    "The claim could not be filed right now (the approval service is unreachable); nothing was saved. Please try again."
)
# How long a redelivery waits for the first delivery to start its claim's workflow (about as long
# as the Temporal client keeps retrying an unreachable server) before answering with the claim.
SETTLE_SECONDS = 10.0
_GONE = "gone"


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
    # Names this submission across deliveries (e.g. "slack-view:<view.id>", "web-form:<nonce>"):
    # the same key again answers with the claim it filed. At most KEY_MAX characters.
    idempotency_key: str | None = None


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
    """File the claim and start its approval; a result with `problems` when it is refused.

    A submission whose key already filed a claim answers with that claim and starts nothing."""
    if submission.idempotency_key is not None and len(submission.idempotency_key) > KEY_MAX:
        raise ValueError(f"idempotency_key is over {KEY_MAX} characters; the front door must shorten it")
    result, receipt_path, filed_now = await asyncio.to_thread(_create, submission, policy, data_dir)
    if result.claim_id is None:
        return result
    if not filed_now:  # an earlier delivery's claim: its workflow, and any undoing, are that delivery's
        return await _once_settled(result)
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
        return SubmitResult(None, {"service": NOT_FILED}, result.remaining, result.currency)
    try:
        await asyncio.to_thread(_mark_started, result.claim_id)
    except Exception:  # the workflow runs, so the claim is filed; a redelivery just waits longer
        log.exception("claim %s: recording that its workflow started failed", result.claim_id)
    return result


async def _once_settled(earlier: SubmitResult) -> SubmitResult:
    """The earlier delivery's answer, once known: its claim when its workflow has started, the
    failure if the workflow could not start and the claim was removed.

    A redelivery often comes because the first delivery is slow, e.g. still starting the workflow;
    answering "filed" straight away would be wrong whenever that start then fails."""
    assert earlier.claim_id is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while (workflow := await asyncio.to_thread(_workflow_of, earlier.claim_id)) is None:
        if loop.time() > deadline:
            return earlier  # still starting: the claim stands unless its delivery removes it
        await asyncio.sleep(0.05)
    if workflow == _GONE:
        return SubmitResult(None, {"service": NOT_FILED}, earlier.remaining, earlier.currency)
    return earlier


_Created = tuple[SubmitResult, Path | None, bool]  # the answer, the stored receipt, filed by this call


def _create(submission: ClaimSubmission, policy: Policy, data_dir: Path) -> _Created:
    try:
        return _file(submission, policy, data_dir)
    except IntegrityError:
        # Two deliveries that both found no claim under their key (only possible when the
        # budget lock did not order them): the unique key let one in, this one answers with it.
        if submission.idempotency_key is None:
            raise
        with session_scope() as session:
            earlier = _filed_with(session, submission.idempotency_key)
            if earlier is None:
                raise
            return _answer_for(session, earlier, submission, policy), None, False


def _file(submission: ClaimSubmission, policy: Policy, data_dir: Path) -> _Created:
    rules = policy.reimbursement
    now = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        person = _with_budget_locked(session, submission.person_email.strip().lower())
        if person is None:
            return (
                SubmitResult(
                    None, {"person": f"Nobody called {submission.person_email!r} takes part: check the email."}
                ),
                None,
                False,
            )
        if submission.idempotency_key is not None:
            earlier = _filed_with(session, submission.idempotency_key)
            if earlier is not None:
                return _answer_for(session, earlier, submission, policy), None, False
        spent = spent_this_year(session, person.id, now.year)
        remaining = remaining_budget(policy, spent)
        problems: dict[str, str] = {}
        if submission.receipt is not None:
            problem = receipt_problem(submission.receipt)
            if problem:
                problems["receipt"] = problem
        draft = ClaimDraft(
            amount=submission.amount,
            currency=submission.currency,
            category=submission.category,
            description=submission.description,
            has_receipt=bool(submission.receipt),
            link=submission.link,
            topic=submission.topic,
        )
        problems = {**claim_problems(policy, draft, spent), **problems}
        if problems:
            return SubmitResult(None, problems, remaining, rules.currency), None, False
        amount = parse_amount(submission.amount)
        assert isinstance(amount, Decimal)
        currency = submission.currency.strip().upper()
        base = in_base_currency(policy, amount, currency)
        assert base is not None
        try:
            approval_chain(policy, base, *routing_people(session, person, policy))
        except NoApprover as problem:
            return SubmitResult(None, {"approver": str(problem)}, remaining, rules.currency), None, False
        receipt_path = store_receipt(data_dir, submission.receipt) if submission.receipt else None
        try:
            claim = ExpenseClaim(
                person_id=person.id,
                amount=amount,
                currency=currency,
                base_amount=base,
                category=submission.category,
                description=submission.description.strip(),
                link=(submission.link or "").strip() or None,
                topic=(submission.topic or None),
                learning_day_id=submission.learning_day_id,
                receipt_path=str(receipt_path) if receipt_path else None,
                receipt_content_type=_content_type(submission.receipt),
                receipt_size=len(submission.receipt) if submission.receipt else None,
                state=ClaimState.pending,
                submitted_at=now,
                submission_key=submission.idempotency_key,
            )
            session.add(claim)
            session.flush()
            audit(session, person.email, "claim_submitted", claim.id, amount=str(amount), currency=currency)
            session.flush()
            return SubmitResult(claim.id, {}, remaining, rules.currency), receipt_path, True
        except BaseException:
            if receipt_path:
                receipt_path.unlink(missing_ok=True)
            raise


def _with_budget_locked(session: Session, email: str) -> Person | None:
    """The active person called `email`, their budget locked until this transaction ends.

    Whoever files a claim for the same person meanwhile waits here, before reading what is spent,
    so each check sees every claim filed before it. PostgreSQL locks the person's row (NO KEY
    UPDATE: foreign-key checks from other tables, e.g. an approver's decision, do not wait).
    SQLite has no row locks: a write as the transaction's first statement takes its database
    write lock, and `sqlite_writers` queues this process's writers on it."""
    query = select(Person).where(Person.email == email, Person.active.is_(True))
    if session.get_bind().dialect.name != "sqlite":
        return session.scalar(query.with_for_update(key_share=True))
    session.execute(
        update(Person).where(Person.email == email).values(updated_at=Person.updated_at),
        execution_options={"synchronize_session": False},
    )
    return session.scalar(query)


def _filed_with(session: Session, key: str) -> ExpenseClaim | None:
    return session.scalar(select(ExpenseClaim).where(ExpenseClaim.submission_key == key))


def _answer_for(session: Session, claim: ExpenseClaim, submission: ClaimSubmission, policy: Policy) -> SubmitResult:
    """What the delivery that filed `claim` answered: its id and the budget left before it."""
    rules = policy.reimbursement
    if claim.person.email != submission.person_email.strip().lower():
        return SubmitResult(None, {"service": KEY_TAKEN}, None, rules.currency)
    spent = spent_this_year(session, claim.person_id, claim.submitted_at.year)
    if claim.state in COMMITTED:
        spent -= claim.base_amount if claim.base_amount is not None else claim.amount
    return SubmitResult(claim.id, {}, remaining_budget(policy, spent), rules.currency)


def _mark_started(claim_id: int) -> None:
    """`workflow_id` is set once the claim's workflow has started: until then a redelivery of the
    same submission cannot tell a filed claim from one about to be removed."""
    with session_scope() as session:
        session.execute(
            update(ExpenseClaim).where(ExpenseClaim.id == claim_id).values(workflow_id=workflow_id_for(claim_id)),
            execution_options={"synchronize_session": False},
        )


def _workflow_of(claim_id: int) -> str | None:
    """The claim's workflow id once started; None while it is starting; _GONE if it was removed."""
    with session_scope() as session:
        claim = session.get(ExpenseClaim, claim_id)
        return _GONE if claim is None else claim.workflow_id


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
