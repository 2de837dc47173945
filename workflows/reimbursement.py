"""One expense claim, from submission to approved, rejected or expired, as a durable workflow.

Its id is `claim-<claim id>`. It asks each approval level in turn (policies.reimbursement decides
who), emails each approver a single-use link, reminds them, escalates to the next person up, and
lets the claim expire — all by timers, so a claim nobody answers ends as "expired", never as a
failed workflow. Decisions arrive as the `decide` update; its validator refuses anyone who is not
a current approver (so the claimant never approves their own claim) and anything already decided,
and the handler runs one decision at a time, so two approvers clicking at once give one decision.

One truth: the decision is made here, and only then written to the database by a regular
activity (scheduled once the update's acceptance is in the history), so the database, the audit
log, the claimant's email and the payroll export can only ever follow the workflow. The same
link clicked again with the same answer (its update id is the link's token and the answer)
answers like the first; with the other answer it is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail.claim_mail import ClaimMail
    from activities.records.claims import ClaimRecords
    from activities.records.problems import record_delivery_problem
    from learningday.contracts.claims import (
        ApprovalRequest,
        ClaimContext,
        ClaimEvent,
        ClaimNotice,
        ClaimView,
        Decision,
        DecisionOutcome,
        DecisionRecord,
        ReimbursementInput,
        decision_key,
    )
    from learningday.contracts.problems import ProblemReport
    from policies.reimbursement import (
        ApprovalStep,
        Approver,
        NoApprover,
        approval_chain,
        decision_outcome,
        level_timers,
        may_decide,
    )
    from workflows.failures import reason_of
    from workflows.instants import wait_for_instant

ACTIVITY_TIMEOUT = dt.timedelta(seconds=60)
DATABASE_TIMEOUT = dt.timedelta(seconds=15)
MAIL_BUDGET = dt.timedelta(hours=6)  # an email not out by then is recorded; the claim goes on
RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))


@workflow.defn
class ReimbursementWorkflow:
    def __init__(self) -> None:
        self._view = ClaimView()
        self._ctx: ClaimContext | None = None
        self._people: dict[int, Approver] = {}
        self._level_result: tuple[Decision, str] | None = None
        self._busy = False  # a decision is made and being written
        self._closed = False
        # Updates interleave at every await: the lock makes decisions strictly one at a time.
        self._lock = asyncio.Lock()
        self._answers: dict[str, DecisionOutcome] = {}  # decision key -> the first answer
        self._spent: dict[str, str] = {}  # token id -> the verdict it gave

    @workflow.run
    async def run(self, claim: ReimbursementInput) -> ClaimView:
        ctx = self._ctx = await workflow.execute_local_activity_method(
            ClaimRecords.load_claim_context, claim.claim_id, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
        )
        started = workflow.now()
        self._view.expires_at = level_timers(ctx.policy, started, started, claim.time_scale).expiry
        try:
            chain = approval_chain(
                ctx.policy, ctx.claim.base_amount, ctx.claimant, ctx.manager, ctx.managers_manager, ctx.finance
            )
        except NoApprover as problem:
            await self._finish("expired", "no_approver", {"problem": str(problem)})
            await self._tell("expired", "expired", next_step=str(problem))
            return self._view
        self._view.levels = len(chain)
        if not chain:
            await self._record(
                DecisionRecord(claim.claim_id, 0, "auto_approved", workflow.now(), final_state="approved")
            )
            self._view.state = "approved"
            await self._tell("approved", "approved", next_step="Claims of this size are approved automatically.")
            return self._view
        await self._tell("submitted", "pending", next_step=f"{chain[0].approver.name} approves it next.")
        for step in chain:
            outcome = await self._run_level(step, chain, started, claim.time_scale)
            if outcome != "approved":
                break
        self._closed = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    async def _run_level(
        self, step: ApprovalStep, chain: list[ApprovalStep], started: dt.datetime, scale: float
    ) -> str:
        """Ask one level; remind, escalate and expire on the policy's timers. Returns the outcome."""
        assert self._ctx is not None
        self._view.level, self._level_result, self._view.approvers = step.level, None, {}
        timers = level_timers(self._ctx.policy, started, workflow.now(), scale)
        await self._ask(step, step.approver, timers.expiry)
        reminded = escalated = False
        while True:
            due = [(timers.expiry, "expire")]
            if not reminded:
                due.append((timers.reminder, "remind"))
            if not escalated:
                due.append((timers.escalation, "escalate"))
            at, what = min(due)
            if await self._wait_until(lambda: self._level_result is not None, at):
                return await self._after_decision(step, chain)
            if what == "remind":
                reminded = True
                self._view.reminders += 1
                for person_id in list(self._view.approvers):
                    await self._ask(step, self._people[person_id], timers.expiry, reminder=True)
                await self._event("claim_reminded", f"remind-{step.level}", {"level": step.level})
            elif what == "escalate":
                escalated = True
                target = step.escalate_to
                if target is not None and target.person_id not in self._view.approvers:
                    self._view.escalations += 1
                    await self._ask(step, target, timers.expiry)
                    await self._event(
                        "claim_escalated", f"escalate-{step.level}", {"level": step.level, "to": target.person_id}
                    )
                    await self._tell(
                        f"escalated-{step.level}",
                        "pending",
                        next_step=f"Nobody answered in time, so {target.name} can now decide it too.",
                    )
            else:
                self._closed = True  # no new decision from here on; let one in flight finish
                await workflow.wait_condition(lambda: not self._busy)
                if self._level_result is not None:
                    return await self._after_decision(step, chain)
                await self._finish("expired", "claim_expired", {"level": step.level})
                await self._tell("expired", "expired", next_step="Nobody decided it in time. You may file it again.")
                return "expired"

    async def _after_decision(self, step: ApprovalStep, chain: list[ApprovalStep]) -> str:
        assert self._level_result is not None
        decision, name = self._level_result
        if not decision.approve:
            await self._tell("rejected", "rejected", decided_by=name, comment=decision.comment)
            return "rejected"
        if step.level == len(chain):
            await self._tell("approved", "approved", decided_by=name, comment=decision.comment)
        else:
            after = chain[step.level]
            await self._tell(
                f"approved-{step.level}",
                "pending",
                decided_by=name,
                comment=decision.comment,
                next_step=f"{name} approved it; {after.approver.name} approves it next ({after.reason}).",
            )
        return "approved"

    # --- the decision ------------------------------------------------------------------------

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionOutcome:
        key = decision_key(decision)
        if key in self._answers:
            return self._answers[key]  # the same click again: answered like the first
        # One decision at a time: a second one waits here, then is refused by the re-check.
        async with self._lock:
            if key in self._answers:
                return self._answers[key]
            self._refuse_unless_current(decision)
            assert self._ctx is not None
            # The decision, made here; the database follows below.
            level = self._view.level
            final = decision_outcome(decision.approve, level, self._view.levels)
            verdict = "approved" if decision.approve else "rejected"
            self._busy = True
            self._spent[decision.token_id] = verdict
            self._view.decisions.append(f"{level}:{verdict}:{decision.approver_id}")
            self._view.state = final or "pending"
            self._view.approvers = {}
            if final is None:
                outcome = DecisionOutcome("pending", level, "Approved. The claim now goes to the next approver.")
            else:
                outcome = DecisionOutcome(final, level, f"The claim is {final}. The claimant has been told.")
            self._answers[key] = outcome
            record = DecisionRecord(
                claim_id=self._ctx.claim.claim_id,
                level=level,
                decision=verdict,
                at=workflow.now(),
                approver_id=decision.approver_id,
                token_id=decision.token_id,
                comment=decision.comment,
                final_state=final,
                workflow_id=workflow.info().workflow_id,
            )
            try:
                # A regular activity: it runs only once the decision is in the history.
                await workflow.execute_activity_method(
                    ClaimRecords.record_decision, record, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
                )
            except ActivityError as error:
                # Only a bug gets here (the database holds another decision): stop, loudly.
                raise RuntimeError(
                    f"claim decision at level {level} could not be recorded: {reason_of(error)}"
                ) from error
            self._level_result = (decision, self._people[decision.approver_id].name)
            self._busy = False
        return outcome

    @decide.validator
    def _validate(self, decision: Decision) -> None:
        if decision_key(decision) in self._answers:
            return
        self._refuse_unless_current(decision)

    def _refuse_unless_current(self, decision: Decision) -> None:
        if self._ctx is None:
            raise ApplicationError("The claim is still being set up: try again in a moment.", type="NotReady")
        if not may_decide(decision.approver_id, self._ctx.claimant.person_id):
            raise ApplicationError("Nobody approves their own claim: nothing was changed.", type="SelfApproval")
        if decision.token_id in self._spent:
            raise ApplicationError(
                f"This approval link was already used (the answer was: {self._spent[decision.token_id]}): nothing was changed.",
                type="Decided",
            )
        if self._view.state != "pending" or self._closed:
            raise ApplicationError(f"This claim is already {self._view.state}: nothing was changed.", type="Decided")
        if self._level_result is not None or self._busy:
            raise ApplicationError("This step was already decided: nothing was changed.", type="Decided")
        token = self._view.approvers.get(decision.approver_id)
        if token is None:
            raise ApplicationError(
                "This link is not for the claim's current approval step: nothing was changed.", type="NotCurrent"
            )
        if token != decision.token_id:
            raise ApplicationError("This link was replaced by a newer one: use the latest email.", type="NotCurrent")

    @workflow.query
    def status(self) -> ClaimView:
        return self._view

    # --- side effects ------------------------------------------------------------------------

    async def _ask(
        self, step: ApprovalStep, approver: Approver, expires_at: dt.datetime, reminder: bool = False
    ) -> None:
        """Send `approver` their link for this level (a fresh token), or a reminder of it."""
        assert self._ctx is not None
        if not reminder:
            self._view.approvers[approver.person_id] = str(workflow.uuid4()).replace("-", "")
            self._people[approver.person_id] = approver
        standing_in = step.on_behalf_of if approver == step.approver else None
        request = ApprovalRequest(
            claim=self._ctx.claim,
            approver=approver,
            level=step.level,
            reason=step.reason,
            token_id=self._view.approvers[approver.person_id],
            expires_at=expires_at,
            n=1,
            reminder=reminder,
            on_behalf_of=standing_in.name if standing_in else None,
        )
        kind = "reminder" if reminder else "approval"
        await self._mail(
            lambda: workflow.execute_activity_method(
                ClaimMail.send_approval_request,
                request,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=MAIL_BUDGET,
                retry_policy=RETRY,
            ),
            f"claim:{self._ctx.claim.claim_id}:{kind}:{step.level}:{approver.person_id}:1",
            approver.person_id,
            "the approver was not emailed their link",
        )

    async def _tell(
        self,
        event: str,
        decision: str,
        decided_by: str | None = None,
        comment: str | None = None,
        next_step: str | None = None,
    ) -> None:
        assert self._ctx is not None
        notice = ClaimNotice(self._ctx.claim, event, decision, decided_by, comment, next_step)
        await self._mail(
            lambda: workflow.execute_activity_method(
                ClaimMail.send_update,
                notice,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=MAIL_BUDGET,
                retry_policy=RETRY,
            ),
            f"claim:{self._ctx.claim.claim_id}:update:{event}",
            self._ctx.claim.person_id,
            f"the claimant was not told ({event})",
        )

    async def _mail(self, send: Callable[[], Awaitable[bool]], key: str, person_id: int, outcome: str) -> None:
        """An email beside the claim: past its retry budget it is recorded, and the claim goes on
        (a refused address is recorded by the mail activity itself)."""
        assert self._ctx is not None
        try:
            await send()
        except ActivityError as error:
            await workflow.execute_local_activity(
                record_delivery_problem,
                ProblemReport(
                    key=key,
                    step="claim_email",
                    subject_type="expense_claim",
                    subject_id=str(self._ctx.claim.claim_id),
                    person_id=person_id,
                    reason=reason_of(error),
                    outcome=outcome,
                    at=workflow.now(),
                ),
                start_to_close_timeout=DATABASE_TIMEOUT,
                retry_policy=RETRY,
            )

    async def _record(self, record: DecisionRecord) -> None:
        record = DecisionRecord(**{**record.__dict__, "workflow_id": workflow.info().workflow_id})
        await workflow.execute_activity_method(
            ClaimRecords.record_decision, record, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
        )

    async def _event(self, action: str, key: str, details: dict[str, object]) -> None:
        assert self._ctx is not None
        event = ClaimEvent(
            self._ctx.claim.claim_id, action, key, details, at=workflow.now(), workflow_id=workflow.info().workflow_id
        )
        await workflow.execute_local_activity_method(
            ClaimRecords.record_event, event, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
        )

    async def _finish(self, state: str, action: str, details: dict[str, object]) -> None:
        assert self._ctx is not None
        self._view.state, self._view.approvers = state, {}
        event = ClaimEvent(
            self._ctx.claim.claim_id,
            action,
            action,
            details,
            state=state,
            at=workflow.now(),
            workflow_id=workflow.info().workflow_id,
        )
        await workflow.execute_local_activity_method(
            ClaimRecords.record_event, event, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
        )

    async def _wait_until(self, condition: Callable[[], bool], at: dt.datetime) -> bool:
        """Wait for `condition` or the instant `at`; True when the condition came first.

        Always a timer (`wait_for_instant`): a claim event's local activity just before can
        outlive its workflow task, and asking whether `at` has passed then reads a clock that
        differs between the first run and a replay. Claims started before keep their path."""
        if workflow.patched("claim-timer-for-past-instants"):
            return await wait_for_instant(condition, at)
        if condition():
            return True
        remaining = (at - workflow.now()).total_seconds()
        if remaining <= 0:
            return False
        try:
            await workflow.wait_condition(condition, timeout=remaining)
            return True
        except TimeoutError:
            return False
