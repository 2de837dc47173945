"""Reading what a workflow cost from its Temporal history: events by type."""

from __future__ import annotations

import asyncio
from collections import Counter

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


async def event_counts(client: Client, workflow_id: str, run_id: str | None = None) -> Counter[str]:
    counts: Counter[str] = Counter()
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events():
        counts[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
        if event.HasField("activity_task_scheduled_event_attributes"):
            counts["activity:" + event.activity_task_scheduled_event_attributes.activity_type.name] += 1
        if event.HasField("marker_recorded_event_attributes"):
            # core_local_activity (a local activity's result) or core_patch (workflow.patched)
            counts["marker:" + event.marker_recorded_event_attributes.marker_name] += 1
    return counts


def events(counter: Counter[str]) -> int:
    """History events (the `activity:<name>` and `marker:<name>` tallies are a breakdown, not events)."""
    return sum(n for key, n in counter.items() if ":" not in key)


async def all_runs_counts(client: Client, workflow_id: str) -> tuple[Counter[str], int]:
    """Events over every run of a workflow id (a continued-as-new sequencer has several)."""
    total: Counter[str] = Counter()
    runs = 0
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        total += await event_counts(client, workflow_id, execution.run_id)
        runs += 1
    return total, runs


async def sample_counts(client: Client, workflow_ids: list[str], concurrency: int = 16) -> list[Counter[str]]:
    gate = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str) -> Counter[str]:
        async with gate:
            return await event_counts(client, workflow_id)

    return list(await asyncio.gather(*(one(w) for w in workflow_ids)))


def mean(counters: list[Counter[str]], key: str | None = None) -> float:
    if not counters:
        return 0.0
    if key is None:
        return sum(events(c) for c in counters) / len(counters)
    return sum(c[key] for c in counters) / len(counters)


def breakdown(counters: list[Counter[str]], top: int = 8, prefix: str = "") -> str:
    """The commonest event types per workflow, e.g. 'activity_task_scheduled 11.0, …'
    (with prefix="activity:", the activities scheduled, by name)."""
    total: Counter[str] = Counter()
    for counter in counters:
        total += Counter(
            {
                k.removeprefix(prefix): n
                for k, n in counter.items()
                if (":" in k) == bool(prefix) and k.startswith(prefix)
            }
        )
    n = max(1, len(counters))
    return ", ".join(f"{name.lower()} {count / n:.1f}" for name, count in total.most_common(top))
