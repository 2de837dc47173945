"""`/learning claim`: the expense-claim modal, filed through the claim service like the web form.

A category that needs a receipt gets the web form's link instead (Slack modals take no files).
Slack sends the same view again when it thinks we missed it, and a person may click Submit
twice on a slow form: the view's id is the claim's idempotency key, so every delivery is the one
claim."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from learningday.claims.service import NOT_FILED, ClaimSubmission, SubmitResult, submit_claim
from learningday.policy_source import current_policy
from learningday.settings import Settings, get_settings
from learningday.slack_blocks import claim_modal, modal_values
from learningday.web.slack.acks import within
from learningday.web.slack.members import UNKNOWN_USER, MemberFinder
from policies.policy import Policy

log = logging.getLogger(__name__)
ClaimSubmitter = Callable[[ClaimSubmission], Awaitable[SubmitResult]]
CLAIM_BLOCKS = ("amount", "currency", "category", "description", "link")


class TemporalClaimSubmitter:
    """The claim service on a Temporal client connected from settings on first use (like the web
    form's), so a Slack claim is validated, stored and started exactly as a web one."""

    def __init__(self, settings: Settings, client: Any = None, policy: Callable[[], Policy] | None = None) -> None:
        self._settings = settings
        self._client = client
        self._policy = policy or (lambda: current_policy(settings))

    async def __call__(self, submission: ClaimSubmission) -> SubmitResult:
        if self._client is None:
            from learningday.temporal.client import connect

            try:
                self._client = await connect(self._settings)
            except RuntimeError:  # Temporal unreachable: refused like a workflow that cannot start
                log.exception("claim from Slack: connecting to Temporal failed; nothing was filed")
                return SubmitResult(None, {"service": NOT_FILED})
        return await submit_claim(
            self._client, self._settings.temporal_task_queue, submission, self._policy(), self._settings.data_dir
        )


class ClaimListener:
    """The claim modal's submission: refusals under their fields, success (or a slow answer) by DM."""

    def __init__(
        self,
        find: MemberFinder,
        policy: Callable[[], Policy],
        claim_link: Callable[[int], str],
        submit: ClaimSubmitter | None,
        ack_budget: float,
    ) -> None:
        self._find = find
        self._policy = policy
        self._claim_link = claim_link
        self._submit = submit
        self._ack_budget = ack_budget

    async def submit_expense(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        member = await self._find(user)
        if member is None:
            await ack(response_action="errors", errors={"amount": UNKNOWN_USER})
            return
        values = modal_values(view)
        category_key = values.get("category") or ""
        category = self._policy().reimbursement.categories.get(category_key)
        if category is not None and category.receipt_required and member.id is not None:
            await ack()
            await client.chat_postMessage(
                channel=user,
                text=(
                    f"A {category_key} claim needs a receipt, and a Slack form cannot take one: please file it "
                    f"on the web form, where you can attach it: {self._claim_link(member.id)}"
                ),
            )
            return
        submitter = self._submit or TemporalClaimSubmitter(get_settings())
        self._submit = submitter
        task = asyncio.ensure_future(
            submitter(
                ClaimSubmission(
                    person_email=member.email,
                    amount=values.get("amount") or "",
                    currency=values.get("currency") or "",
                    category=category_key,
                    description=values.get("description") or "",
                    link=values.get("link"),
                    idempotency_key=f"slack-view:{view['id']}" if view.get("id") else None,
                )
            )
        )
        result = await within(task, self._ack_budget)
        if result is not None and not result.ok:
            await ack(response_action="errors", errors=claim_errors(result.problems))
            return
        await ack()
        result = result or await task
        await client.chat_postMessage(
            channel=user,
            text=(
                f"Claim {result.claim_id} filed; your approver has been emailed."
                if result.ok
                else "Your claim was not filed: " + " ".join(result.problems.values())
            ),
        )


def claim_form(policy: Policy) -> dict[str, Any]:
    """The claim modal for the policy in force: its currencies, and each category's label and cap."""
    rules = policy.reimbursement
    named = rules.category_labels
    labels = {
        key: f"{named[key]} (up to {c.cap} {rules.currency}{', receipt on the web form' if c.receipt_required else ''})"
        for key, c in rules.categories.items()
    }
    return claim_modal(sorted({rules.currency, *rules.accepted_currencies}), rules.currency, labels)


def claim_errors(problems: dict[str, str]) -> dict[str, str]:
    """The service's problems by modal block; those about no field (approver, service) go on top."""
    errors: dict[str, str] = {}
    for field, message in problems.items():
        block = field if field in CLAIM_BLOCKS else "amount"
        errors[block] = f"{errors[block]} {message}" if block in errors else message
    return errors
