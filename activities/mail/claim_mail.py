"""Claim emails: the approval link to each approver, and every step to the claimant.

Each email has an outbox key built from ids only (`claim:<id>:approval:<level>:<approver id>:<n>`,
`claim:<id>:update:<event>`), so a retried activity sends nothing twice. A relay refusing an
address for good (5xx) is reported back instead of retried forever: a claim waits for its timers,
it never fails because one email bounced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from temporalio import activity

from activities.mail.smtp import MailRejected
from activities.records.problems import record_problem_now
from learningday.contracts.claims import ApprovalRequest, ClaimNotice, ClaimSummary
from learningday.contracts.mail import Email, Mailer
from learningday.contracts.problems import ProblemReport
from learningday.labels import expense_label
from learningday.links.approval import ApprovalLink
from learningday.mail_render import money, render_email
from policies.policy import Policy

log = logging.getLogger(__name__)


def _claim_context(claim: ClaimSummary, policy: Policy) -> dict[str, object]:
    return {
        "amount": claim.amount,
        "currency": claim.currency,
        "category": expense_label(claim.category, policy.reimbursement.category_labels),
        "description": claim.description,
        "link": claim.link,
        "topic": claim.topic,
        "submitted_at": claim.submitted_at,
    }


class ClaimMail:
    def __init__(
        self, mailer: Mailer, approval_url: Callable[[ApprovalLink], str], policy: Callable[[], Policy] = Policy
    ) -> None:
        self._mailer = mailer
        self._approval_url = approval_url
        self._policy = policy  # read per email: the category labels of the file in force

    @activity.defn(name="send_claim_approval_request")
    def send_approval_request(self, request: ApprovalRequest) -> bool:
        """Email the approver their link; False when the relay refused the address for good."""
        claim = request.claim
        kind = "reminder" if request.reminder else "approval"
        key = f"claim:{claim.claim_id}:{kind}:{request.level}:{request.approver.person_id}:{request.n}"
        url = self._approval_url(
            ApprovalLink(
                claim.claim_id, request.approver.person_id, request.level, request.token_id, request.expires_at
            )
        )
        subject = f"Approve {claim.claimant_name}'s claim: {money(claim.amount, claim.currency)}"
        if request.reminder:
            subject = "Reminder: " + subject
        reason = request.reason
        approver_name = request.approver.name
        if request.on_behalf_of:
            # The template names the reason only above level 1: say it in the greeting instead.
            approver_name = f"{approver_name} (you stand in for {request.on_behalf_of}, who is out of office)"
        email = render_email(
            "claim_approval",
            {
                "approver_name": approver_name,
                "claimant_name": claim.claimant_name,
                "claim": _claim_context(claim, self._policy()),
                "level": request.level,
                "level_reason": reason,
                "approve_url": url,
                "expires_at": request.expires_at,
            },
            key=key,
            to=[request.approver.email],
            subject=subject,
        )
        return self._send(email, claim, request.approver.person_id, "the approver was not emailed their link")

    @activity.defn(name="send_claim_update")
    def send_update(self, notice: ClaimNotice) -> bool:
        claim = notice.claim
        email = render_email(
            "claim_update",
            {
                "claimant_name": claim.claimant_name,
                "claim": _claim_context(claim, self._policy()),
                "decision": notice.decision,
                "decided_by": notice.decided_by,
                "comment": notice.comment,
                "next_step": notice.next_step,
            },
            key=f"claim:{claim.claim_id}:update:{notice.event}",
            to=[claim.claimant_email],
            subject=f"Your claim {money(claim.amount, claim.currency)}: {notice.decision}",
        )
        return self._send(email, claim, claim.person_id, f"the claimant was not told ({notice.event})")

    def _send(self, email: Email, claim: ClaimSummary, person_id: int, outcome: str) -> bool:
        """Send; a refusal for good is a recorded delivery problem, and the claim goes on."""
        try:
            self._mailer.send(email)
        except MailRejected as error:
            log.warning("claim email %s refused for good (%s): not retried", email.key, error.code)
            record_problem_now(
                ProblemReport(
                    key=email.key,
                    step="claim_email",
                    subject_type="expense_claim",
                    subject_id=str(claim.claim_id),
                    person_id=person_id,
                    reason=str(error),
                    outcome=outcome,
                )
            )
            return False
        return True
