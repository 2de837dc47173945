"""Every recorded history replays against today's workflow code.

A change to a workflow that would make a running workflow take a different path (an activity
added, removed or reordered, a timer moved) fails here, before it reaches a worker that still
has such workflows in flight. Such changes go behind `workflow.patched(...)`; see the README's
contributing section. Histories are recorded by `python -m tests.replay.record`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

import learningday.temporal.worker as worker_module
from learningday.temporal.worker import WORKFLOW_RUNNER

with workflow.unsafe.imports_passed_through():
    from learningday.contracts.calendar import AwayEvents, EventQuery, HoldRef, HoldRequest
    from learningday.contracts.day import DayContext, DayKey

HISTORIES = Path(__file__).parent / "histories"
INDEX: dict[str, str] = json.loads((HISTORIES / "index.json").read_text())

# Every workflow class the worker module registers (a new one shows up here by itself).
WORKFLOWS = [
    value
    for value in vars(worker_module).values()
    if isinstance(value, type) and hasattr(value, "__temporal_workflow_definition")
]


def history(file_name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(INDEX[file_name], (HISTORIES / file_name).read_text())


def replayer(workflows: list[type]) -> Replayer:
    return Replayer(workflows=workflows, data_converter=pydantic_data_converter, workflow_runner=WORKFLOW_RUNNER)


def test_every_history_file_is_indexed_and_every_workflow_has_a_history() -> None:
    files = {p.name for p in HISTORIES.glob("*--*.json")}
    assert files == set(INDEX), "re-record with `python -m tests.replay.record`; never edit histories by hand"
    recorded_types = {f.split("--")[1].rsplit("-", 1)[0] for f in files}
    assert {w.__name__ for w in WORKFLOWS} <= recorded_types


@pytest.mark.parametrize("file_name", sorted(INDEX))
async def test_history_replays_against_the_current_workflow_code(file_name: str) -> None:
    result = await replayer(WORKFLOWS).replay_workflow(history(file_name))
    assert result.replay_failure is None


# --- the check can fail --------------------------------------------------------------------


@workflow.defn(name="LearningDayWorkflow")
class HoldBeforeOutOfOfficeCheck:
    """A careless edit of LearningDayWorkflow: the hold is placed before the calendar is
    checked for out-of-office. Harmless-looking, but a day recorded by the real workflow took
    the other path, and a worker running this code could not resume it."""

    @workflow.run
    async def run(self, day: object) -> None:
        timeout = dt.timedelta(seconds=60)
        ctx = await workflow.execute_local_activity(
            "load_day_context",
            DayKey(person_id=0, date=dt.date(2026, 12, 3), workflow_id=""),
            result_type=DayContext,
            start_to_close_timeout=timeout,
        )
        now = workflow.now()
        await workflow.execute_activity(
            "place_hold",
            HoldRequest(
                person_email=ctx.person_email,
                date=dt.date(2026, 12, 3),
                starts_at=now,
                ends_at=now,
                timezone=ctx.timezone,
            ),
            result_type=HoldRef,
            start_to_close_timeout=timeout,
        )
        await workflow.execute_activity(
            "find_out_of_office",
            EventQuery(person_email=ctx.person_email, starts_at=now, ends_at=now, timezone=ctx.timezone),
            result_type=AwayEvents,
            start_to_close_timeout=timeout,
        )


async def test_a_reordered_workflow_fails_replay_with_a_nondeterminism_error() -> None:
    with pytest.raises(NondeterminismError, match="'find_out_of_office' does not match .*'place_hold'"):
        await replayer([HoldBeforeOutOfOfficeCheck]).replay_workflow(history("day-on-time--LearningDayWorkflow-1.json"))
