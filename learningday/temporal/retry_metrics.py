"""Counting retries: every activity attempt after the first is a failure an operator should
see on a dashboard (a vendor rate-limiting, the database restarting), not only in logs."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from learningday import metrics


class CountRetries(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountingInbound(next)


class _CountingInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.attempt > 1:
            metrics.activity_retries.labels(info.activity_type).inc()
        return await super().execute_activity(input)
