"""Waiting for an instant right after a slow local activity replays the way it ran.

Found by the demo: a compressed day's reminder instant passed while a local activity outlived
its workflow task; the first run saw `workflow.now()` before the instant and started a timer,
the replay saw it after and sent the reminder at once, so every query on the finished day failed
with a nondeterminism error (and a day evicted from the cache could not have resumed). Here the
same shape on the real dev server: a local activity that outlives a 2-second workflow task, with
the instant between the task's heartbeat and the activity's end: the first run reads `now()` as
the activity's end (the instant has passed), replay as the heartbeat task's start (it has not).
The negative control branches on `now()` as the day used to and fails replay; `wait_for_instant`
(what the day uses now) replays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker
from temporalio.workflow import NondeterminismError

from workflows.instants import wait_for_instant

TASK_TIMEOUT = dt.timedelta(seconds=2)  # the worker heartbeats the task at 80 %: 1.6 s
SLOW_WRITE_SECONDS = 3.0
INSTANT_AFTER = dt.timedelta(seconds=2.3)  # after the 1.6 s heartbeat, before the write's end


@activity.defn
async def slow_write() -> None:
    await asyncio.sleep(SLOW_WRITE_SECONDS)


@activity.defn
async def remind() -> None:
    pass


async def _after_a_slow_write() -> dt.datetime:
    instant = workflow.now() + INSTANT_AFTER
    await workflow.execute_local_activity(slow_write, start_to_close_timeout=dt.timedelta(seconds=30))
    return instant


@workflow.defn(name="PastInstant")
class BranchesOnNow:
    """The old shape: act at once when the instant has passed, else start a timer."""

    @workflow.run
    async def run(self) -> str:
        instant = await _after_a_slow_write()
        path = "at once" if instant <= workflow.now() else "timer"
        if path == "timer":
            await workflow.sleep((instant - workflow.now()).total_seconds())
        await workflow.execute_local_activity(remind, start_to_close_timeout=dt.timedelta(seconds=5))
        return path


@workflow.defn(name="PastInstant")
class WaitsForTheInstant:
    @workflow.run
    async def run(self) -> str:
        instant = await _after_a_slow_write()
        await wait_for_instant(lambda: False, instant)
        await workflow.execute_local_activity(remind, start_to_close_timeout=dt.timedelta(seconds=5))
        return "timer"


async def _run_and_replay(client: Client, workflow_class: type) -> Exception | None:
    queue = f"past-instant-{uuid.uuid4().hex[:8]}"
    runner = UnsandboxedWorkflowRunner()
    async with Worker(
        client, task_queue=queue, workflows=[workflow_class], activities=[slow_write, remind], workflow_runner=runner
    ):
        handle = await client.start_workflow(
            "PastInstant", id=f"past-instant-{uuid.uuid4().hex}", task_queue=queue, task_timeout=TASK_TIMEOUT
        )
        await handle.result()
        history = await handle.fetch_history()
    replayed = await Replayer(workflows=[workflow_class], workflow_runner=runner).replay_workflow(
        history, raise_on_replay_failure=False
    )
    return replayed.replay_failure


async def test_branching_on_now_after_a_slow_local_activity_fails_replay(temporal_env: WorkflowEnvironment) -> None:
    """The negative control: the hazard is real on this server and SDK."""
    failure = await _run_and_replay(temporal_env.client, BranchesOnNow)
    assert isinstance(failure, NondeterminismError), failure


async def test_waiting_for_an_instant_after_a_slow_local_activity_replays(temporal_env: WorkflowEnvironment) -> None:
    assert await _run_and_replay(temporal_env.client, WaitsForTheInstant) is None


@workflow.defn(name="InstantOrCondition")
class InstantOrCondition:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self, late: bool) -> bool:
        instant = workflow.now() + (dt.timedelta(seconds=-5) if late else dt.timedelta(seconds=30))
        self.done = not late
        return await wait_for_instant(lambda: self.done, instant)


@pytest.mark.parametrize("late", [False, True])
async def test_wait_for_instant_says_whether_the_condition_came_first(
    temporal_env: WorkflowEnvironment, late: bool
) -> None:
    """True when the condition holds before the instant, False when the instant (here one already
    past) comes first."""
    queue = f"instant-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_env.client,
        task_queue=queue,
        workflows=[InstantOrCondition],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        answer = await temporal_env.client.execute_workflow(
            "InstantOrCondition", late, id=f"instant-{uuid.uuid4().hex}", task_queue=queue, result_type=bool
        )
    assert answer is (not late)
