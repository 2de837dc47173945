"""ReimbursementWorkflow on the real dev server, emails through a real SMTP server: chains of one
and two levels, auto-approval, no self-approval, delegates, and reminder → escalation → expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from learningday.contracts.claims import ClaimView, Decision, workflow_id_for
from learningday.db.models import (
    Absence,
    AuditEntry,
    ClaimDecision,
    ExpenseClaim,
    Person,
)
from learningday.links.approval import LinkRefused, read_approval_token
from policies.policy import Policy, ReimbursementPolicy
from tests.reimbursement.conftest import Claims
from tests.waiting import eventually
from workflows.reimbursement import ReimbursementWorkflow


def handle(claims: Claims, claim_id: int) -> WorkflowHandle:
    return claims.client.get_workflow_handle_for(ReimbursementWorkflow.run, workflow_id_for(claim_id))


async def current_link(claims: Claims, claim_id: int, approver: Person) -> Decision:
    """Wait for `approver`'s email for this claim and decide through its token (approve)."""

    async def emailed() -> bool:
        return any(read_approval_token(t).claim_id == claim_id for t in claims.links_for(approver))

    await eventually(emailed, what=f"approval email to {approver.name}")
    token = [t for t in claims.links_for(approver) if read_approval_token(t).claim_id == claim_id][-1]
    link = read_approval_token(token)
    return Decision(approver_id=link.approver_id, token_id=link.token_id, approve=True)


def subjects(claims: Claims, person: Person) -> list[str]:
    return [str(r.message["Subject"]) for r in claims.mails_to(person)]


async def test_a_one_level_claim_is_approved_by_the_manager_and_the_claimant_hears_each_step(
    claims: Claims, session: Session
) -> None:
    filed = await claims.file("42.50")
    assert filed.ok and filed.remaining == Decimal("1500.00")
    decision = await current_link(claims, filed.claim_id, claims.org.maria)  # type: ignore[arg-type]
    outcome = await handle(claims, filed.claim_id).execute_update(  # type: ignore[arg-type]
        ReimbursementWorkflow.decide, Decision(decision.approver_id, decision.token_id, True, "Enjoy the book")
    )
    view: ClaimView = await handle(claims, filed.claim_id).result()  # type: ignore[arg-type]

    assert outcome.state == "approved" and view.state == "approved"
    claim = session.get(ExpenseClaim, filed.claim_id)
    session.refresh(claim)
    assert claim.state.value == "approved" and claim.decided_at is not None
    [row] = session.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == filed.claim_id)).all()
    assert (row.level, row.approver_id, row.decision, row.comment) == (
        1,
        claims.org.maria.id,
        "approved",
        "Enjoy the book",
    )
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == str(filed.claim_id))).all()
    assert {"claim_submitted", "claim_approved"} <= set(actions)
    told = subjects(claims, claims.org.ada)
    assert told == ["Your claim USD 42.50: pending", "Your claim USD 42.50: approved"]
    assert "Enjoy the book" in claims.mails_to(claims.org.ada)[-1].message.get_body(("plain",)).get_content()


async def test_a_large_claim_needs_the_manager_then_the_managers_manager(claims: Claims, session: Session) -> None:
    filed = await claims.file("600", category="courses", description="Stanford CS229 online")
    h = handle(claims, filed.claim_id)  # type: ignore[arg-type]
    first = await h.execute_update(
        ReimbursementWorkflow.decide, await current_link(claims, filed.claim_id, claims.org.maria)
    )  # type: ignore[arg-type]
    assert first.state == "pending"
    assert await h.query(ReimbursementWorkflow.status) is not None
    second = await h.execute_update(
        ReimbursementWorkflow.decide, await current_link(claims, filed.claim_id, claims.org.grace)
    )  # type: ignore[arg-type]
    view = await h.result()

    assert second.state == "approved" and view.decisions == [
        f"1:approved:{claims.org.maria.id}",
        f"2:approved:{claims.org.grace.id}",
    ]
    assert [
        d.level for d in session.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == filed.claim_id))
    ] == [1, 2]
    assert subjects(claims, claims.org.ada) == [
        "Your claim USD 600.00: pending",
        "Your claim USD 600.00: pending",
        "Your claim USD 600.00: approved",
    ]


async def test_a_rejection_at_the_first_level_ends_the_claim(claims: Claims) -> None:
    filed = await claims.file("600", category="courses")
    decision = await current_link(claims, filed.claim_id, claims.org.maria)  # type: ignore[arg-type]
    h = handle(claims, filed.claim_id)  # type: ignore[arg-type]
    outcome = await h.execute_update(
        ReimbursementWorkflow.decide, Decision(decision.approver_id, decision.token_id, False, "Not this one")
    )
    view = await h.result()
    assert outcome.state == "rejected" and view.state == "rejected"
    assert claims.links_for(claims.org.grace) == []


async def test_a_claim_below_the_auto_approval_amount_is_approved_without_anyone(
    claims: Claims, session: Session
) -> None:
    claims.policy = Policy(reimbursement=ReimbursementPolicy(auto_approve_below=Decimal(25)))
    filed = await claims.file("19.99")
    view = await handle(claims, filed.claim_id).result()  # type: ignore[arg-type]

    assert view.state == "approved" and view.levels == 0
    [row] = session.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == filed.claim_id)).all()
    assert (row.level, row.decision, row.approver_id) == (0, "auto_approved", None)
    assert claims.links_for(claims.org.maria) == []
    assert subjects(claims, claims.org.ada) == ["Your claim USD 19.99: approved"]


async def test_the_claimant_cannot_approve_their_own_claim(claims: Claims, session: Session) -> None:
    filed = await claims.file("42.50")
    decision = await current_link(claims, filed.claim_id, claims.org.maria)  # type: ignore[arg-type]
    h = handle(claims, filed.claim_id)  # type: ignore[arg-type]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await h.execute_update(ReimbursementWorkflow.decide, Decision(claims.org.ada.id, decision.token_id, True))
    assert "own claim" in str(refused.value.cause)
    assert (await h.query(ReimbursementWorkflow.status)).state == "pending"
    assert session.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == filed.claim_id)).all() == []
    await h.terminate("test over")


async def test_a_manager_claiming_for_herself_is_approved_by_her_own_manager(claims: Claims) -> None:
    filed = await claims.file("42.50", person=claims.org.maria)
    decision = await current_link(claims, filed.claim_id, claims.org.grace)  # type: ignore[arg-type]
    outcome = await handle(claims, filed.claim_id).execute_update(ReimbursementWorkflow.decide, decision)  # type: ignore[arg-type]
    assert outcome.state == "approved"


async def test_an_out_of_office_manager_is_replaced_by_the_policy_delegate(claims: Claims, session: Session) -> None:
    today = dt.date.today()
    session.add(
        Absence(
            person_id=claims.org.maria.id,
            start_date=today - dt.timedelta(days=1),
            end_date=today + dt.timedelta(days=5),
            reason="vacation",
        )
    )
    session.commit()
    claims.policy = Policy(reimbursement=ReimbursementPolicy(delegates={"maria@example.com": "finn@example.com"}))
    filed = await claims.file("42.50")
    assert filed.ok, filed.problems
    decision = await current_link(claims, filed.claim_id, claims.org.finn)  # type: ignore[arg-type]
    outcome = await handle(claims, filed.claim_id).execute_update(ReimbursementWorkflow.decide, decision)  # type: ignore[arg-type]

    assert outcome.state == "approved" and claims.links_for(claims.org.maria) == []
    text = claims.mails_to(claims.org.finn)[0].message.get_body(("plain",)).get_content()
    assert "stand in for Maria" in text


async def test_an_unanswered_claim_is_reminded_then_escalated_then_expires_without_failing(
    claims: Claims, session: Session
) -> None:
    # One policy day per second: reminder after 1 s, escalation after 2 s, expiry after 4 s.
    claims.policy = Policy(
        reimbursement=ReimbursementPolicy(reminder_after_days=1, escalate_after_days=2, expire_after_days=4)
    )
    claims.time_scale = 86400
    filed = await claims.file("42.50")
    assert filed.ok, filed.problems
    view: ClaimView = await handle(claims, filed.claim_id).result()  # type: ignore[arg-type]

    assert view.state == "expired" and view.reminders == 1 and view.escalations == 1
    assert subjects(claims, claims.org.maria) == [
        "Approve Ada's claim: USD 42.50",
        "Reminder: Approve Ada's claim: USD 42.50",
    ]
    # Escalated to the manager's manager, with a link of her own.
    assert subjects(claims, claims.org.grace) == ["Approve Ada's claim: USD 42.50"]
    assert subjects(claims, claims.org.ada) == [
        "Your claim USD 42.50: pending",
        "Your claim USD 42.50: pending",
        "Your claim USD 42.50: expired",
    ]
    claim = session.get(ExpenseClaim, filed.claim_id)
    session.refresh(claim)
    assert claim.state.value == "expired"
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == str(filed.claim_id))))
    assert {"claim_reminded", "claim_escalated", "claim_expired"} <= actions
    # The links of an expired claim decide nothing: they have expired with it, and the closed
    # workflow takes no decision whatever token it is given.
    with pytest.raises(LinkRefused, match="expired"):
        read_approval_token(claims.links_for(claims.org.grace)[0])
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle(claims, filed.claim_id).execute_update(  # type: ignore[arg-type]
            ReimbursementWorkflow.decide,
            Decision(claims.org.grace.id, view.approvers.get(claims.org.grace.id, "x"), True),
        )
