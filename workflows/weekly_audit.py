"""The weekly audit: last week's spillover, flagged to managers, then digests.

Runs every Monday (a second Schedule), and on demand for a given week with `learningday audit
run --week … --send` (workflow id `audit_workflow_id(Monday)`, one run per week). It scales to
10,000 people without a huge history: each run audits one page of people in one heartbeating
activity, mails that page's flags, then continues as new with the cursor; the digest phase
pages through managers the same way. Every step is idempotent (flags upsert on person+kind+date, emails are
keyed), so a retried page or a re-run audit raises and sends nothing twice.

No single failure ends the audit: an address the relay refuses is a delivery problem for that
one email (recorded by the mail activity), a flag whose emails cannot go out within their retry
budget is recorded and the next flag is mailed, a calendar that cannot be read leaves that one
person unaudited (recorded), and a page of digests that keeps failing is recorded before the
audit finishes.

Why spillover only: it needs the whole week's calendar, so it can only be judged once the week
is over. Used for work needs just one day's meetings and summary, so each Learning Day judges it
at its own end and the manager hears that evening (workflows/day_end.py). The audit still judges
used for work for a day that was not judged at its end (one that ran before that change), so no
day goes unjudged and none is flagged twice (activities/records/audit.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import DigestActivities, MailActivities
    from activities.records.audit import AuditActivities
    from activities.records.problems import record_delivery_problem
    from learningday.contracts.audit import AuditInput, AuditPage, AuditResult, DigestPage
    from learningday.contracts.flags import FlagNotice, FlagRecorded
    from learningday.contracts.problems import ProblemReport
    from policies.enforcement import flag_recipients
    from policies.policy import Policy
    from policies.spillover import week_start
    from workflows.failures import reason_of

RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))
PAGE_TIMEOUT = dt.timedelta(minutes=30)
HEARTBEAT = dt.timedelta(minutes=2)
NOTIFY_BUDGET = dt.timedelta(hours=6)  # one flag's emails: then recorded, and the audit goes on
DIGEST_BUDGET = dt.timedelta(hours=12)  # one page of digests: a relay down half a day


@workflow.defn
class WeeklyAuditWorkflow:
    @workflow.run
    async def run(self, audit: AuditInput) -> AuditResult:
        monday = audit.week_start or week_start(workflow.now().date()) - dt.timedelta(days=7)
        if audit.phase == "people":
            page = await workflow.execute_activity_method(
                AuditActivities.audit_people_page,
                AuditPage(week_start=monday, after_person_id=audit.after_id, limit=audit.page_size),
                start_to_close_timeout=PAGE_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=RETRY,
            )
            assert page.policy is not None
            await asyncio.gather(*(self._notify(flag, page.policy) for flag in page.flags))
            flags = audit.flags + len(page.flags)
            if not page.done:
                workflow.continue_as_new(AuditInput(monday, "people", page.last_person_id, audit.page_size, flags))
            workflow.continue_as_new(AuditInput(monday, "digests", 0, audit.page_size, flags))
        try:
            digests = await workflow.execute_activity_method(
                DigestActivities.send_digests_page,
                DigestPage(week_start=monday, after_manager_id=audit.after_id, limit=audit.page_size),
                start_to_close_timeout=PAGE_TIMEOUT,
                schedule_to_close_timeout=DIGEST_BUDGET,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=RETRY,
            )
        except ActivityError as error:
            await self._problem(
                ProblemReport(
                    key=f"digests:{monday}:after:{audit.after_id}",
                    step="digest",
                    subject_type="week",
                    subject_id=str(monday),
                    reason=reason_of(error),
                    outcome=f"digests for managers after id {audit.after_id} were not sent",
                    at=workflow.now(),
                )
            )
            return AuditResult(week_start=monday, flags=audit.flags, digests=audit.digests)
        total = audit.digests + len(digests.manager_ids)
        if not digests.done:
            workflow.continue_as_new(
                AuditInput(monday, "digests", digests.last_manager_id, audit.page_size, audit.flags, total)
            )
        return AuditResult(week_start=monday, flags=audit.flags, digests=total)

    async def _notify(self, flag: FlagRecorded, policy: Policy) -> None:
        """Email one flag's readers (decided here, by policy); a failure is recorded, not raised."""
        readers = flag_recipients(
            policy, flag.missed_in_a_row, flag.person_id, flag.manager_id, flag.managers_manager_id
        )
        try:
            await workflow.execute_activity_method(
                MailActivities.notify_flag,
                FlagNotice(flag_id=flag.flag_id, readers=readers),
                start_to_close_timeout=dt.timedelta(minutes=2),
                schedule_to_close_timeout=NOTIFY_BUDGET,
                retry_policy=RETRY,
            )
        except ActivityError as error:
            await self._problem(
                ProblemReport(
                    key=f"flag:{flag.flag_id}:email",
                    step="flag_email",
                    subject_type="flag",
                    subject_id=str(flag.flag_id),
                    person_id=flag.person_id,
                    reason=reason_of(error),
                    outcome="the flag emails were not sent",
                    at=workflow.now(),
                )
            )

    async def _problem(self, report: ProblemReport) -> None:
        await workflow.execute_activity(
            record_delivery_problem, report, start_to_close_timeout=dt.timedelta(seconds=30), retry_policy=RETRY
        )
