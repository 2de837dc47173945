"""Recording the activity attempts that failed, for fault tests where the fault is outside us
(the database, a server) and nothing is injected into the activities themselves."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


@dataclass(frozen=True)
class Failure:
    activity_type: str
    workflow_id: str
    attempt: int
    error: BaseException
    at: float  # time.monotonic()


class RecordFailures(Interceptor):
    """Every activity attempt that raised (nothing is injected: the database does the failing)."""

    def __init__(self) -> None:
        self.failed: list[Failure] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        outer = self

        class Inbound(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> Any:
                try:
                    return await super().execute_activity(input)
                except Exception as error:
                    info = activity.info()
                    outer.failed.append(
                        Failure(info.activity_type, info.workflow_id or "", info.attempt, error, time.monotonic())
                    )
                    raise

        return Inbound(next)

    def per_workflow(self) -> Counter[str]:
        return Counter(f.workflow_id for f in self.failed)
