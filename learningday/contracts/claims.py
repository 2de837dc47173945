"""An expense claim's payloads: the workflow's input, decisions and status, its context and
records, and the emails it asks for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policies.policy import Policy
from policies.reimbursement import Approver


def workflow_id_for(claim_id: int) -> str:
    return f"claim-{claim_id}"


@dataclass(frozen=True)
class ReimbursementInput:
    claim_id: int
    # >1 makes every policy day shorter by this factor (tests, demos): 86400 = a day per second.
    time_scale: float = 1.0


@dataclass(frozen=True)
class Decision:
    approver_id: int
    token_id: str
    approve: bool
    comment: str | None = None


def decision_key(decision: Decision) -> str:
    """The decision's idempotency key and update id: one link, one answer."""
    return f"decide:{decision.token_id}:{'approve' if decision.approve else 'reject'}"


@dataclass(frozen=True)
class DecisionOutcome:
    state: str  # the claim's state after the decision: pending (next level) | approved | rejected
    level: int
    message: str


@dataclass
class ClaimView:
    """What `status` shows and `run` returns: the claim's state and how it got there."""

    state: str = "pending"
    level: int = 0
    levels: int = 0
    approvers: dict[int, str] = field(default_factory=dict)  # current approver id -> token id
    decisions: list[str] = field(default_factory=list)  # "1:approved:<approver id>", …
    reminders: int = 0
    escalations: int = 0
    expires_at: dt.datetime | None = None


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


@dataclass(frozen=True)
class ApprovalRequest:
    claim: ClaimSummary
    approver: Approver
    level: int
    reason: str
    token_id: str
    expires_at: dt.datetime
    n: int  # 1 for the first email of this approver at this level, 2 for a reminder…
    reminder: bool = False
    on_behalf_of: str | None = None  # the absent approver's name, for a delegate


@dataclass(frozen=True)
class ClaimNotice:
    claim: ClaimSummary
    event: str  # e.g. "submitted", "approved-1", "approved", "rejected", "expired", "escalated-1"
    decision: str  # what the template says: pending | approved | rejected | expired
    decided_by: str | None = None
    comment: str | None = None
    next_step: str | None = None
