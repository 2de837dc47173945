"""Scale-out under failure: two `learningday worker` processes share one task queue on the real
Temporal dev server; several hundred compressed Learning Days start; one worker is SIGKILLed
mid-way. Every day must still complete exactly once, with no side effect repeated, and the
work must finish on the surviving worker."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from learningday.contracts.day import workflow_id_for
from learningday.db.models import AuditEntry, CalendarHold, DayState, Flag, LearningDay, OutboxMessage, Person
from learningday.temporal.devserver import DevServer, free_port
from policies.policy import Policy
from tests.waiting import eventually
from tests.workflows.clock import thursday_ahead
from workflows.learning_day import LearningDayWorkflow

pytestmark = pytest.mark.slow

PEOPLE = 300
THURSDAY = thursday_ahead(dt.datetime.now(dt.UTC), Policy())  # `day start --date` refuses a past one
TIME_SCALE = "120"  # the compact day below (09:00–09:55) lasts about 28 s
CLI = [sys.executable, "-m", "learningday.cli"]
TIMEZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]

COMPACT_POLICY = """
[working_hours]
start = "09:00"
end = "10:00"

[checkins]
plan_prompt = "09:00"
plan_reminders = ["09:10"]
plan_deadline = "09:20"
plan_grace_minutes = 5
summary_prompt = "09:30"
summary_reminders = ["09:40"]
summary_deadline = "09:50"
summary_grace_minutes = 5
"""


class WorkerProcess:
    """`python -m learningday.cli worker` against a cluster address, with its probe port.

    Its two ports are picked free and bound by the worker a moment later; in between, any
    process's outgoing connection may take one (a free-port race of the test, not the worker's
    doing). A worker that exits at start for a taken port is started again on new ports."""

    PORT_ATTEMPTS = 3

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.base_env, self.log, self.attempts = env, log_dir / f"{name}.log", 0
        self._start()

    def _start(self) -> None:
        self.attempts += 1
        self.probe_port = free_port()
        self.sdk_metrics_port = next(p for p in iter(free_port, None) if p != self.probe_port)
        self.env = self.base_env | {
            "LEARNINGDAY_METRICS_PORT": str(self.probe_port),
            "LEARNINGDAY_TEMPORAL_METRICS_PORT": str(self.sdk_metrics_port),
        }
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([*CLI, "worker"], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def identity_prefix(self) -> str:
        return f"{self.process.pid}@"  # the SDK's default worker identity is pid@hostname

    async def ready(self) -> bool:
        if self.process.poll() is not None:
            output = self.log.read_text()
            if "Address already in use" in output and self.attempts < self.PORT_ATTEMPTS:
                self._start()
                return False
            raise AssertionError(f"worker exited: {output[-3000:]}")
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"http://127.0.0.1:{self.probe_port}/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def cluster(tmp_path: Path, engine: object) -> Iterator[tuple[DevServer, dict[str, str]]]:
    """A headless dev server standing in for the cluster, and the environment of its workers."""
    server = DevServer(
        db_file=tmp_path / "temporal.db", port=free_port(), ui_port=None, log_file=tmp_path / "temporal.log"
    )
    server.start()
    policy = tmp_path / "policy.toml"
    policy.write_text(COMPACT_POLICY)
    env = os.environ | {
        "LEARNINGDAY_DATA_DIR": str(tmp_path),
        "LEARNINGDAY_TEMPORAL_ADDRESS": server.address,
        "LEARNINGDAY_POLICY_FILE": str(policy),
        "LEARNINGDAY_LOG_FORMAT": "json",
        "LEARNINGDAY_GRACEFUL_SHUTDOWN_SECONDS": "10",
    }
    try:
        asyncio.run(_frontend_healthy(server))
        yield server, env
    finally:
        server.stop()


async def _frontend_healthy(server: DevServer) -> None:
    """The port opens a moment before the frontend serves; workers would exit on that error."""

    async def answers() -> bool:
        try:
            await Client.connect(server.address)
            return True
        except RuntimeError:
            return False

    await eventually(answers, timeout=30, what="the dev server's frontend")


def _add_people(session: Session) -> list[Person]:
    people = [
        Person(email=f"learner{n:03d}@example.com", name=f"Learner {n}", timezone=TIMEZONES[n % 4], team="Scale")
        for n in range(PEOPLE)
    ]
    session.add_all(people)
    session.commit()
    return people


def _count(session: Session, query) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return int(session.scalar(query) or 0)


async def test_days_complete_exactly_once_when_a_worker_is_killed(
    cluster: tuple[DevServer, dict[str, str]], session: Session, tmp_path: Path
) -> None:
    server, env = cluster
    people = _add_people(session)
    began = time.monotonic()
    doomed, survivor = WorkerProcess("worker-a", env, tmp_path), WorkerProcess("worker-b", env, tmp_path)
    try:
        await eventually(doomed.ready, timeout=60, what="worker A ready")
        await eventually(survivor.ready, timeout=60, what="worker B ready")

        started = subprocess.run(
            [*CLI, "day", "start", "--all", "--date", THURSDAY.isoformat(), "--time-scale", TIME_SCALE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert started.returncode == 0, started.stderr
        assert f"Started {PEOPLE} " in started.stdout

        # Mid-way: a third of the plan prompts are out, many days are between activities.
        plan_prompts = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.idempotency_key.like("prompt:%:plan:0"))
        )

        async def a_third_prompted() -> bool:
            return _count(session, plan_prompts) >= PEOPLE // 3

        # Generous: two worker processes on one SQLite file meet in SQLite's busy handler, and on a
        # loaded machine one's writes can wait there for their 30 s (seen in CI); on PostgreSQL, and
        # on a quiet machine, a third is out in well under a minute. The kill must still come mid-way.
        await eventually(a_third_prompted, timeout=240, what="a third of the plan prompts")
        killed_at = time.monotonic() - began
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()

        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        handles = [
            client.get_workflow_handle_for(LearningDayWorkflow.run, workflow_id_for(p.id, THURSDAY)) for p in people
        ]
        try:
            views = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=420)
        except TimeoutError:
            done = _count(
                session, select(func.count()).select_from(LearningDay).where(LearningDay.state == DayState.completed)
            )
            raise AssertionError(f"{done} of {PEOPLE} days completed within 420 s; logs in {tmp_path}") from None
        finished_at = time.monotonic() - began

        # Every day completed, as the program says for someone who never answers.
        assert Counter(v.state for v in views) == {"completed": PEOPLE}
        assert all(v.flags == ["missed_plan", "missed_summary"] for v in views)
        runs = await client.count_workflows("WorkflowType = 'LearningDayWorkflow'")
        assert runs.count == PEOPLE, "a day was started twice"

        # Exactly once in the database: one day, one hold, four prompts, two flags per person.
        session.expire_all()
        days = session.execute(select(LearningDay.person_id, LearningDay.state)).all()
        assert sorted(d.person_id for d in days) == sorted(p.id for p in people)
        assert {d.state for d in days} == {DayState.completed}
        holds = Counter(session.scalars(select(CalendarHold.person_id)).all())
        assert holds == Counter({p.id: 1 for p in people})
        prompt_keys = set(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.like("prompt:%"))
            ).all()
        )
        expected_prompts = {
            f"prompt:{workflow_id_for(p.id, THURSDAY)}:{kind}:{index}"
            for p in people
            for kind in ("plan", "summary")
            for index in (0, 1)
        }
        assert prompt_keys == expected_prompts
        flags = Counter((f.person_id, f.kind.value) for f in session.scalars(select(Flag)).all())
        assert flags == Counter({(p.id, k): 1 for p in people for k in ("missed_plan", "missed_summary")})
        # The audit trail has no unique key: a repeated side effect would show up here.
        audit = Counter(session.scalars(select(AuditEntry.action)).all())
        assert audit["day_scheduled"] == PEOPLE
        assert audit["flag_raised"] == 2 * PEOPLE
        assert audit["day_completed"] == PEOPLE

        # Both workers took part, and the survivor finished every day.
        histories: list[WorkflowHistory] = await asyncio.gather(*(h.fetch_history() for h in handles))
        touched_by_doomed = retried = 0
        for history in histories:
            retried += sum(
                1
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and e.activity_task_started_event_attributes.attempt > 1
            )
            identities = [
                e.workflow_task_completed_event_attributes.identity
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            ]
            touched_by_doomed += any(i.startswith(doomed.identity_prefix) for i in identities)
            assert identities[-1].startswith(survivor.identity_prefix), history.workflow_id
        assert touched_by_doomed > 0, "the killed worker did no work: the test proves nothing"

        # The survivor's probes and metrics, as Kubernetes and Prometheus would read them.
        async with httpx.AsyncClient() as http:
            ours = (await http.get(f"http://127.0.0.1:{survivor.probe_port}/metrics")).text
            sdk = (await http.get(f"http://127.0.0.1:{survivor.sdk_metrics_port}/metrics")).text
        assert 'learningday_flags_total{kind="missed_summary"}' in ours
        assert "learningday_days_started_total" in ours
        assert "temporal_workflow_completed" in sdk or "temporal_request" in sdk
        lines = [line for line in survivor.log.read_text().splitlines() if line.strip()]
        assert lines and all(json.loads(line)["level"] for line in lines), "worker logs are not JSON lines"

        # SIGTERM: a graceful stop, exit code 0.
        survivor.process.send_signal(signal.SIGTERM)
        assert survivor.process.wait(timeout=30) == 0
        print(
            f"\n{PEOPLE} days, 2 workers: killed one at {killed_at:.1f} s, all completed at "
            f"{finished_at:.1f} s; {touched_by_doomed} days had run on the killed worker, {retried} activities retried"
        )
    finally:
        doomed.stop()
        survivor.stop()
