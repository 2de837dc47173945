"""The weekly audit: last week's spillover and used-for-work, flagged to managers, then digests.

Runs every Monday (a second Schedule). It scales to 10,000 people without a huge history: each
run audits one page of people in one heartbeating activity, mails that page's flags, then
continues as new with the cursor; the digest phase pages through managers the same way. Every
step is idempotent (flags upsert on person+kind+date, emails are keyed), so a retried page or a
re-run audit raises and sends nothing twice.

Why used-for-work is judged here rather than at the end of each day: it needs the whole day's
calendar (meetings accepted late in the afternoon count too) and one calendar read per person
per week serves both rules; the cost is that the manager hears on Monday, with the digest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import DigestPage, DigestPageResult, FlagNotice, FlagNotified
    from activities.records.enforcement import AuditPage, AuditPageResult
    from policies.spillover import week_start

RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))
PAGE_TIMEOUT = dt.timedelta(minutes=30)
HEARTBEAT = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class AuditInput:
    week_start: dt.date | None = None  # the Monday audited; default: last week
    phase: str = "people"  # people | digests
    after_id: int = 0  # cursor: last person (people) or manager (digests) done
    page_size: int = 200
    flags: int = 0  # running totals, carried across continue-as-new
    digests: int = 0


@dataclass(frozen=True)
class AuditResult:
    week_start: dt.date
    flags: int
    digests: int


@workflow.defn
class WeeklyAuditWorkflow:
    @workflow.run
    async def run(self, audit: AuditInput) -> AuditResult:
        monday = audit.week_start or week_start(workflow.now().date()) - dt.timedelta(days=7)
        if audit.phase == "people":
            page = await workflow.execute_activity(
                "audit_people_page",
                AuditPage(week_start=monday, after_person_id=audit.after_id, limit=audit.page_size),
                result_type=AuditPageResult,
                start_to_close_timeout=PAGE_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=RETRY,
            )
            await asyncio.gather(*(self._notify(flag_id) for flag_id in page.flag_ids))
            flags = audit.flags + len(page.flag_ids)
            if not page.done:
                workflow.continue_as_new(AuditInput(monday, "people", page.last_person_id, audit.page_size, flags))
            workflow.continue_as_new(AuditInput(monday, "digests", 0, audit.page_size, flags))
        digests = await workflow.execute_activity(
            "send_digests_page",
            DigestPage(week_start=monday, after_manager_id=audit.after_id, limit=audit.page_size),
            result_type=DigestPageResult,
            start_to_close_timeout=PAGE_TIMEOUT,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=RETRY,
        )
        total = audit.digests + len(digests.manager_ids)
        if not digests.done:
            workflow.continue_as_new(
                AuditInput(monday, "digests", digests.last_manager_id, audit.page_size, audit.flags, total)
            )
        return AuditResult(week_start=monday, flags=audit.flags, digests=total)

    async def _notify(self, flag_id: int) -> FlagNotified:
        return await workflow.execute_activity(
            "notify_flag",
            FlagNotice(flag_id=flag_id),
            result_type=FlagNotified,
            start_to_close_timeout=dt.timedelta(minutes=2),
            retry_policy=RETRY,
        )
