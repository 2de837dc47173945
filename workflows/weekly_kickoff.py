"""The weekly kickoff the Temporal Schedule runs: start every active person's Learning Day.

Thin on purpose: one activity pages through the directory and starts each day's workflow;
a retry or a second run starts nothing twice, because each day's workflow id is unique.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from learningday.contracts.kickoff import KickoffRequest, KickoffResult


@workflow.defn
class WeeklyKickoffWorkflow:
    @workflow.run
    async def run(self, request: KickoffRequest | None = None) -> KickoffResult:
        request = request or KickoffRequest(reference=workflow.now())
        result: KickoffResult = await workflow.execute_activity(
            "start_learning_days",
            request,
            result_type=KickoffResult,
            start_to_close_timeout=dt.timedelta(hours=1),
            heartbeat_timeout=dt.timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=dt.timedelta(minutes=1)),
        )
        return result
