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
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from learningday import metrics
from learningday.contracts.claims import ClaimContext, ClaimEvent, ClaimSummary, DecisionRecord
from learningday.db.claims import audit, routing_people
from learningday.db.engine import session_scope
from learningday.db.models import (
    AuditEntry,
    ClaimDecision,
    ClaimState,
    ExpenseClaim,
    Person,
    UsedToken,
)
from policies.policy import Policy


class ReplayedLink(Exception):
    pass


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


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
