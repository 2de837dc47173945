"""More worker processes beside the one `serve` (or `worker`) runs in itself.

A Temporal Python worker runs every workflow task on one event loop, so one process uses about
one core however many the machine has: at nine o'clock, with everyone's plan prompt due at once,
the worker was the bottleneck at 0.93 of a core while the dev server used 0.28 (measured for
the 10,000-learner burst, issue 17).
Extra processes polling the same task queues share the work; Temporal hands each workflow task
to one of them and keeps each day's sticky cache in one place.

Each extra process is `learningday worker` with the parent's settings, pointed at the same
Temporal server, with its probes on a free port and its Temporal SDK metrics off (the parent's
port would be taken). The kernel ends them when the parent dies, however it dies
(`devserver.die_with_parent`); a clean stop sends SIGTERM and waits for their graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

from learningday.settings import Settings
from learningday.temporal.devserver import die_with_parent

log = logging.getLogger(__name__)


def processes_wanted(settings: Settings) -> int:
    """LEARNINGDAY_WORKER_PROCESSES, or when it is 0: one per CPU core this process may run on,
    on PostgreSQL; one on SQLite.

    SQLite takes one writer at a time (within a process `sqlite_writers` queues them; across
    processes they meet in SQLite's busy handler): with two workers on SQLite bench.burst got
    slower, not faster: one process's writers starved, workflow tasks ran past 5 s waiting on
    database writes and were retried (bench/README.md, 2026-11-29)."""
    if settings.worker_processes:
        return settings.worker_processes
    if settings.resolved_database_url.startswith("sqlite"):
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def child_environment(temporal_address: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LEARNINGDAY_TEMPORAL_METRICS_PORT", None)
    return env | {
        "LEARNINGDAY_TEMPORAL_ADDRESS": temporal_address,
        "LEARNINGDAY_WORKER_PROCESSES": "1",  # the children start no children
        "LEARNINGDAY_METRICS_PORT": "0",  # probes on a free port: the parent holds the configured one
    }


@contextlib.asynccontextmanager
async def extra_worker_processes(
    settings: Settings, temporal_address: str
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    """Start `processes_wanted - 1` worker processes; stop them (SIGTERM, then SIGKILL) on exit,
    waiting in a thread so the in-process worker's own graceful stop goes on meanwhile."""
    count = processes_wanted(settings) - 1
    children: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "learningday.cli", "worker"],
                    env=child_environment(temporal_address),
                    preexec_fn=die_with_parent(),
                )
            )
        if children:
            log.info("%d more worker processes: pids %s", len(children), [child.pid for child in children])
        yield children
    finally:
        await asyncio.to_thread(stop, children, settings.graceful_shutdown_seconds + 5)


def stop(children: list[subprocess.Popen[bytes]], grace: float) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            log.warning("worker process %d did not stop within %.0f s; killing it", child.pid, grace)
            child.kill()
            child.wait()
