"""`serve` runs a worker process per core (here: as many as LEARNINGDAY_WORKER_PROCESSES says),
all polling the same Temporal task queue, and none outlives it: a clean stop ends them
gracefully, and even SIGKILL, which `serve` cannot handle, leaves no worker behind."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from learningday.settings import Settings
from learningday.worker_processes import child_environment, processes_wanted
from tests.cli.operator import answers, clean_up, service_env, start
from tests.waiting import wait_until


def children_of(pid: int) -> list[int]:
    """Pids of the live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def worker_processes_among(pids: list[int]) -> list[int]:
    workers = []
    for pid in pids:
        try:
            args = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"learningday.cli" in args and b"worker" in args:
            workers.append(pid)
    return workers


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def pollers(address: str, task_queue: str) -> set[str]:
    """The identities polling the task queue's workflow tasks (`pid@host` for the Python SDK)."""
    client = await Client.connect(address)
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return {poller.identity for poller in answer.pollers}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_serve_runs_the_worker_processes_asked_for_and_none_outlives_it(
    sig: signal.Signals, tmp_path: Path, engine: Engine
) -> None:
    env = service_env(tmp_path, worker_processes="3")
    temporal_port = int(env["LEARNINGDAY_TEMPORAL_DEV_PORT"])
    process = start("serve", env=env)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{env['LEARNINGDAY_WEB_PORT']}/healthz"), 60, "serve up")
        wait_until(lambda: len(worker_processes_among(children_of(process.pid))) == 2, 30, "two more workers")
        extra = worker_processes_among(children_of(process.pid))
        queue = env.get("LEARNINGDAY_TEMPORAL_TASK_QUEUE", "learningday")
        identities: set[str] = set()

        def three_pollers() -> bool:
            identities.update(asyncio.run(pollers(f"127.0.0.1:{temporal_port}", queue)))
            return len({identity.split("@")[0] for identity in identities}) >= 3

        wait_until(three_pollers, 30, "three processes polling the task queue")
        assert {str(process.pid), *map(str, extra)} <= {identity.split("@")[0] for identity in identities}

        process.send_signal(sig)
        process.communicate(timeout=60)
        code = process.returncode
        wait_until(lambda: not any(alive(pid) for pid in extra), 30, "the extra workers gone")
    finally:
        clean_up(process, temporal_port)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 0)


def test_zero_means_one_worker_process_per_core_this_process_may_use_on_postgresql() -> None:
    postgres = "postgresql+psycopg://learningday@db/learningday"
    assert processes_wanted(Settings(worker_processes=0, database_url=postgres)) == len(os.sched_getaffinity(0))
    assert processes_wanted(Settings(worker_processes=2, database_url=postgres)) == 2


def test_zero_means_one_worker_process_on_sqlite_whose_writers_two_processes_would_starve() -> None:
    assert processes_wanted(Settings(worker_processes=0, database_url="sqlite:////tmp/learningday.db")) == 1
    assert processes_wanted(Settings(worker_processes=2, database_url="sqlite:////tmp/learningday.db")) == 2


def test_an_extra_worker_joins_the_parents_server_with_its_probes_on_a_free_port_and_no_children() -> None:
    env = child_environment("127.0.0.1:7999")
    assert env["LEARNINGDAY_TEMPORAL_ADDRESS"] == "127.0.0.1:7999"
    assert env["LEARNINGDAY_WORKER_PROCESSES"] == "1"
    assert env["LEARNINGDAY_METRICS_PORT"] == "0"
    assert "LEARNINGDAY_TEMPORAL_METRICS_PORT" not in env
