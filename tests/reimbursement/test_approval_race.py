"""One decision, one truth: a link clicked twenty times at once, on two web replicas, with both
answers, decides once — and the workflow, the database, the audit log, the claimant's email and
the payroll export all tell the same story."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from activities.records.claims import ClaimRecords
from learningday.claims.reports import approved_claims_csv
from learningday.contracts.claims import ClaimView, DecisionRecord, workflow_id_for
from learningday.db.models import AuditEntry, ClaimDecision, ExpenseClaim, OutboxMessage, UsedToken
from tests.reimbursement.conftest import Claims
from tests.reimbursement.test_approval_links import CSRF, emailed_token
from workflows.reimbursement import ReimbursementWorkflow

CLAIMS = 4
CLICKS = 20


async def race_one_claim(claims: Claims) -> tuple[int, list[tuple[str, int]]]:
    """File a claim and POST its approval link CLICKS times at once, alternating approve and
    reject over two web apps (two replicas); (claim id, [(decision, status)…])."""
    filed = await claims.file("42.50")
    assert filed.claim_id is not None
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")
    async with claims.web() as one, claims.web() as two:
        replicas = [one, two]
        forms = [CSRF.search((await web.get(f"/approve/{token}")).text).group(1) for web in replicas]  # type: ignore[union-attr]

        async def click(n: int) -> tuple[str, int]:
            decision = ("approve", "reject")[n % 2]
            web, csrf = replicas[n // 2 % 2], forms[n // 2 % 2]
            response = await web.post(f"/approve/{token}", data={"csrf": csrf, "decision": decision})
            return decision, response.status_code

        answers = await asyncio.gather(*(click(n) for n in range(CLICKS)))
    return filed.claim_id, answers


async def test_twenty_concurrent_clicks_with_both_answers_leave_one_truth_everywhere(
    claims: Claims, session: Session
) -> None:
    raced = [await race_one_claim(claims) for _ in range(CLAIMS)]
    truths: dict[int, str] = {}

    exported = approved_claims_csv(claims.policy, dt.datetime.now(dt.UTC).year)
    paid = {int(row["claim_id"]) for row in csv.DictReader(io.StringIO(exported))}
    for claim_id, answers in raced:
        view: ClaimView = await claims.client.get_workflow_handle_for(
            ReimbursementWorkflow.run, workflow_id_for(claim_id)
        ).result()
        session.expire_all()
        truth = truths[claim_id] = view.state
        assert truth in ("approved", "rejected")
        winner = "approve" if truth == "approved" else "reject"
        # The database, the audit log, the claimant's email and payroll follow the workflow.
        claim = session.get(ExpenseClaim, claim_id)
        assert claim is not None and claim.state.value == truth
        rows = session.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == claim_id)).all()
        assert [r.decision for r in rows] == [truth]
        audited = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.subject_type == "expense_claim",
                AuditEntry.subject_id == str(claim_id),
                AuditEntry.action.in_(["claim_approved", "claim_rejected"]),
            )
        ).all()
        assert audited == [f"claim_{truth}"]
        told = session.scalars(
            select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.like(f"claim:{claim_id}:update:%")
            )
        ).all()
        assert sorted(told) == sorted([f"claim:{claim_id}:update:submitted", f"claim:{claim_id}:update:{truth}"])
        assert (claim_id in paid) == (truth == "approved")
        # Each click with the winning answer is told the decision; the other answer is refused.
        assert sorted(set(answers)) == sorted(
            {(winner, 200), ({"approve": "reject", "reject": "approve"}[winner], 409)}
        ), answers
    subjects = sorted(m.message["Subject"] for m in claims.mails_to(claims.org.ada))
    decided = sorted(f"Your claim USD 42.50: {truth}" for truth in truths.values())
    assert [s for s in subjects if not s.endswith("pending")] == decided  # one decision email per claim: the workflow's


def test_a_second_different_decision_for_a_decided_level_is_refused_not_already_recorded(
    claims: Claims, session: Session
) -> None:
    """The database never says "already recorded" to a write of another decision."""
    claim = ExpenseClaim(
        person_id=claims.org.ada.id,
        amount=42.5,
        currency="USD",
        base_amount=42.5,
        category="books",
        description="Concrete Mathematics",
        submitted_at=dt.datetime.now(dt.UTC),
    )
    session.add(claim)
    session.commit()
    records = ClaimRecords(lambda: claims.policy)
    at = dt.datetime.now(dt.UTC)
    approve = DecisionRecord(claim.id, 1, "approved", at, claims.org.maria.id, "t" * 32, final_state="approved")

    assert records.record_decision(approve) == "recorded"
    assert records.record_decision(approve) == "already recorded"  # a retry of the same write
    with pytest.raises(ApplicationError, match="the workflow decided 'rejected'") as refused:
        records.record_decision(
            DecisionRecord(claim.id, 1, "rejected", at, claims.org.maria.id, "t" * 32, final_state="rejected")
        )
    assert refused.value.non_retryable
    session.expire_all()
    assert session.get(ExpenseClaim, claim.id).state.value == "approved"  # type: ignore[union-attr]


def test_a_decision_that_cannot_be_written_leaves_its_link_unspent(claims: Claims, session: Session) -> None:
    """The spent token and its decision commit together: a link is never seen as used without the
    decision it made (on SQLite a savepoint's release used to commit the token on its own)."""
    records = ClaimRecords(lambda: claims.policy)
    missing_claim = DecisionRecord(9_999, 1, "approved", dt.datetime.now(dt.UTC), claims.org.maria.id, "u" * 32)

    with pytest.raises(Exception):  # noqa: B017 - whichever way the write fails, it fails whole
        records.record_decision(missing_claim)
    session.expire_all()
    assert session.get(UsedToken, "u" * 32) is None
