"""Database activities for an expense claim: who is involved, every decision, every step.

The claim's workflow decides; these rows follow. A decision and the approval link it spends are
one transaction: the link's token id goes into `used_tokens` (its primary key refuses a second
use) together with the `claim_decisions` row (one per claim and level) and the audit entry. A
retry of the same decision finds its own row and converges; a *different* decision for a level
already recorded is two truths and refused, never "already recorded".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from learningday import metrics
from learningday.db.engine import session_scope
from learningday.db.models import (
    Absence,
    AuditEntry,
    ClaimDecision,
    ClaimState,
    ExpenseClaim,
    Person,
    UsedToken,
)
from policies.policy import Policy
from policies.reimbursement import Approver

COMMITTED = (ClaimState.pending, ClaimState.approved)


@dataclass(frozen=True)
class ClaimSummary:
    """What emails and pages show about a claim."""

    claim_id: int
    person_id: int
    claimant_name: str
    claimant_email: str
    amount: Decimal
    currency: str
    base_amount: Decimal
    category: str
    description: str
    submitted_at: dt.datetime
    link: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class ClaimContext:
    claim: ClaimSummary
    state: str
    claimant: Approver
    manager: Approver | None
    managers_manager: Approver | None
    finance: Approver | None
    policy: Policy


@dataclass(frozen=True)
class DecisionRecord:
    claim_id: int
    level: int  # 0 = auto-approval
    decision: str  # approved | rejected | auto_approved
    at: dt.datetime
    approver_id: int | None = None
    token_id: str | None = None
    comment: str | None = None
    final_state: str | None = None  # set when this decision settles the claim
    on_behalf_of_id: int | None = None
    workflow_id: str = ""


@dataclass(frozen=True)
class ClaimEvent:
    """Anything else worth an audit entry (reminded, escalated, expired); `state` ends the claim."""

    claim_id: int
    action: str
    key: str  # unique per event, so a retried activity writes one entry
    details: dict[str, Any] = field(default_factory=dict)
    state: str | None = None
    at: dt.datetime | None = None
    workflow_id: str = ""


class ReplayedLink(Exception):
    pass


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


class ClaimRecords:
    """Claim activities over the database; `policy_loader` gives the policy in force."""

    def __init__(self, policy_loader: Callable[[], Policy]) -> None:
        self._policy_loader = policy_loader

    @activity.defn(name="load_claim_context")
    def load_claim_context(self, claim_id: int) -> ClaimContext:
        policy = self._policy_loader()
        with session_scope() as session:
            claim = session.get(ExpenseClaim, claim_id)
            if claim is None:
                raise ApplicationError(f"claim {claim_id} does not exist", non_retryable=True)
            claimant, manager, managers_manager, finance = routing_people(session, claim.person, policy)
            return ClaimContext(
                claim=summary_of(claim),
                state=claim.state.value,
                claimant=claimant,
                manager=manager,
                managers_manager=managers_manager,
                finance=finance,
                policy=policy,
            )

    @activity.defn(name="record_claim_decision")
    def record_decision(self, record: DecisionRecord) -> str:
        """Record one decision, spending its link; returns "recorded" or "already recorded"."""
        try:
            with session_scope() as session:
                return _record(session, record)
        except ReplayedLink:
            raise ApplicationError(
                "This approval link was already used: nothing was changed.", type="ReplayedLink", non_retryable=True
            ) from None
        except IntegrityError:
            # Another decision for the same level won the race to commit.
            raise ApplicationError(
                "This step of the claim was already decided: nothing was changed.",
                type="AlreadyDecided",
                non_retryable=True,
            ) from None

    @activity.defn(name="record_claim_event")
    def record_event(self, event: ClaimEvent) -> None:
        with session_scope() as session:
            claim = session.get(ExpenseClaim, event.claim_id)
            if claim is None:
                raise ApplicationError(f"claim {event.claim_id} does not exist", non_retryable=True)
            if event.state is not None:
                claim.state = ClaimState(event.state)
                claim.decided_at = event.at
            seen = session.scalars(
                select(AuditEntry.details).where(
                    AuditEntry.subject_type == "expense_claim",
                    AuditEntry.subject_id == str(event.claim_id),
                    AuditEntry.action == event.action,
                )
            ).all()
            if not any(d.get("key") == event.key for d in seen):
                audit(
                    session,
                    f"workflow:{event.workflow_id}",
                    event.action,
                    event.claim_id,
                    key=event.key,
                    **event.details,
                )
                metrics.claims.labels(event.action).inc()


def _record(session: Session, record: DecisionRecord) -> str:
    existing = session.scalar(
        select(ClaimDecision).where(ClaimDecision.claim_id == record.claim_id, ClaimDecision.level == record.level)
    )
    if existing is not None:
        if (existing.token_id, existing.approver_id, existing.decision) == (
            record.token_id,
            record.approver_id,
            record.decision,
        ):
            return "already recorded"  # our own earlier attempt committed: a retry
        raise ApplicationError(
            f"claim {record.claim_id} level {record.level}: the database holds '{existing.decision}' "
            f"by approver {existing.approver_id}, the workflow decided '{record.decision}' by approver {record.approver_id}",
            type="TwoTruths",
            non_retryable=True,
        )
    if record.token_id is not None:
        # No savepoint: on SQLite (pysqlite opens no transaction before a read) releasing one
        # commits it, and the spent link would be visible before its decision. Both rows, the
        # claim's state and the audit entry commit together or not at all; a concurrent spend of
        # the same token fails the commit on the primary key (IntegrityError, see record_decision).
        if session.get(UsedToken, record.token_id) is not None:
            raise ReplayedLink()
        session.add(UsedToken(token_id=record.token_id, used_at=record.at))
    session.add(
        ClaimDecision(
            claim_id=record.claim_id,
            level=record.level,
            approver_id=record.approver_id,
            decision=record.decision,
            comment=record.comment,
            decided_at=record.at,
            token_id=record.token_id,
        )
    )
    claim = session.get(ExpenseClaim, record.claim_id)
    if claim is None:
        raise ApplicationError(f"claim {record.claim_id} does not exist", non_retryable=True)
    if record.final_state is not None:
        claim.state = ClaimState(record.final_state)
        claim.decided_at = record.at
    approver = session.get(Person, record.approver_id) if record.approver_id else None
    audit(
        session,
        approver.email if approver else f"workflow:{record.workflow_id}",
        f"claim_{record.decision}",
        record.claim_id,
        level=record.level,
        approver_id=record.approver_id,
        on_behalf_of_id=record.on_behalf_of_id,
        comment=record.comment,
        at=record.at.isoformat(),
    )
    session.flush()
    metrics.claims.labels(f"decision_{record.decision}").inc()
    return "recorded"


def summary_of(claim: ExpenseClaim) -> ClaimSummary:
    return ClaimSummary(
        claim_id=claim.id,
        person_id=claim.person_id,
        claimant_name=claim.person.name,
        claimant_email=claim.person.email,
        amount=Decimal(claim.amount),
        currency=claim.currency,
        base_amount=Decimal(claim.base_amount if claim.base_amount is not None else claim.amount),
        category=claim.category,
        description=claim.description,
        submitted_at=_as_utc(claim.submitted_at),
        link=claim.link,
        topic=claim.topic,
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


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
