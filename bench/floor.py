"""The bare-Temporal floor: a workflow with the same number of activities (regular and local),
timers, updates and signals as a Learning Day, each doing nothing. What Temporal itself costs on this machine, to compare
the real day against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from temporalio import activity, workflow


@dataclass(frozen=True)
class FloorInput:
    activities: int
    updates: int
    signals: int
    local_activities: int = 0
    timers: int = 0


@activity.defn(name="floor_noop")
def floor_noop(step: int) -> int:
    return step


@workflow.defn
class FloorWorkflow:
    def __init__(self) -> None:
        self._updates = 0
        self._signals = 0

    @workflow.run
    async def run(self, spec: FloorInput) -> int:
        for step in range(spec.activities):
            await workflow.execute_activity(
                "floor_noop", step, result_type=int, start_to_close_timeout=dt.timedelta(seconds=60)
            )
        for _ in range(spec.timers):
            await workflow.sleep(0.01)  # the dev server fires it on its next tick (~1 s)
        for step in range(spec.local_activities):
            await workflow.execute_local_activity(
                "floor_noop", step, result_type=int, start_to_close_timeout=dt.timedelta(seconds=15)
            )
        await workflow.wait_condition(lambda: self._updates >= spec.updates and self._signals >= spec.signals)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return spec.activities

    @workflow.update
    async def poke(self, n: int) -> int:
        self._updates += 1
        return n

    @workflow.signal
    def ping(self) -> None:
        self._signals += 1
