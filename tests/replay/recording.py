"""A pytest plugin that keeps the history of every workflow a test started.

Loaded only by `python -m tests.replay.record` (`-p tests.replay.recording`). It wraps
`Client.start_workflow` — the one call behind `execute_workflow`, signal-with-start and the
kickoff/channel-queue activities — so that after the test it knows which workflows ran, then
fetches each one's history from the server and writes `history.to_json()` next to the others.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory

DIR_ENV = "LEARNINGDAY_RECORD_DIR"
SCENARIOS_ENV = "LEARNINGDAY_RECORD_SCENARIOS"  # JSON: {nodeid: [slug, [workflow types to keep]]}
INDEX = "index.json"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)


async def every_run(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of every run of a workflow, first run first: a continue-as-new chain
    (the weekly audit's pages, a long channel sequencer) is walked back from the latest run."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.insert(0, history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return runs


@pytest.fixture(autouse=True)
async def record_workflow_histories(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    scenarios: dict[str, list[Any]] = json.loads(os.environ.get(SCENARIOS_ENV, "{}"))
    slug, keep = scenarios.get(request.node.nodeid, [_safe(request.node.name), []])
    started: dict[str, tuple[Client, str]] = {}  # workflow id -> (client, workflow type)
    original = Client.start_workflow

    async def start_workflow(self: Client, workflow: Any, *args: Any, **kwargs: Any) -> Any:
        handle = await original(self, workflow, *args, **kwargs)
        name = workflow if isinstance(workflow, str) else workflow.__qualname__.split(".")[0]
        started.setdefault(handle.id, (self, name))
        return handle

    monkeypatch.setattr(Client, "start_workflow", start_workflow)
    yield
    monkeypatch.undo()
    out = Path(os.environ[DIR_ENV])
    index_file = out / INDEX
    index: dict[str, str] = json.loads(index_file.read_text()) if index_file.exists() else {}
    counts: dict[str, int] = {}
    for workflow_id, (client, name) in started.items():
        if keep and name not in keep:
            continue
        for history in await every_run(client, workflow_id):
            counts[name] = counts.get(name, 0) + 1
            file_name = f"{slug}--{name}-{counts[name]}.json"
            (out / file_name).write_text(history.to_json())
            index[file_name] = workflow_id
    index_file.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n")
