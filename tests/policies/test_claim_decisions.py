"""What one approver's decision makes of an expense claim, and who may decide at all."""

from __future__ import annotations

from policies.reimbursement import decision_outcome, may_decide


def test_a_rejection_at_any_level_ends_the_claim() -> None:
    assert decision_outcome(approve=False, level=1, levels=2) == "rejected"
    assert decision_outcome(approve=False, level=2, levels=2) == "rejected"


def test_an_approval_passes_the_claim_on_until_the_last_level_approves_it() -> None:
    assert decision_outcome(approve=True, level=1, levels=2) is None  # still pending: level 2 next
    assert decision_outcome(approve=True, level=2, levels=2) == "approved"
    assert decision_outcome(approve=True, level=1, levels=1) == "approved"


def test_nobody_decides_their_own_claim() -> None:
    assert not may_decide(approver_id=7, claimant_id=7)
    assert may_decide(approver_id=2, claimant_id=7)
