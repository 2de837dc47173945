"""`learningday serve` as an operator runs it: up within seconds, answering the web check-in,
and surviving a restart with its workflows intact (the dev server keeps state in a file)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from learningday.contracts.day import workflow_id_for
from learningday.db.models import Flag, OutboxMessage, Person
from learningday.links.checkin import checkin_token
from learningday.temporal.devserver import free_port, port_is_open
from policies.policy import Policy
from tests.waiting import eventually
from tests.workflows.clock import thursday_ahead
from workflows.learning_day import LearningDayWorkflow

# A Thursday still to come whenever the suite runs: `day start --date` refuses a past one.
THURSDAY = thursday_ahead(dt.datetime.now(dt.UTC), Policy())
CLI = [sys.executable, "-m", "learningday.cli"]

# A long plan window (a real hour) so the restart in the middle fits even on a slow machine.
COMPACT_POLICY = """
[working_hours]
start = "09:00"
end = "10:30"

[checkins]
plan_prompt = "09:00"
plan_reminders = ["09:45"]
plan_deadline = "10:00"
plan_grace_minutes = 5
summary_prompt = "10:10"
summary_reminders = ["10:15"]
summary_deadline = "10:20"
summary_grace_minutes = 5
"""


class Service:
    """A `learningday serve` process on free ports with its own data directory."""

    def __init__(self, data_dir: Path, policy_file: Path) -> None:
        self.temporal_port, self.web_port = free_port(), free_port()
        self.env = os.environ | {
            "LEARNINGDAY_DATA_DIR": str(data_dir),
            "LEARNINGDAY_TEMPORAL_DEV_PORT": str(self.temporal_port),
            "LEARNINGDAY_TEMPORAL_DEV_UI_PORT": str(free_port()),
            "LEARNINGDAY_WEB_PORT": str(self.web_port),
            "LEARNINGDAY_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "LEARNINGDAY_POLICY_FILE": str(policy_file),
        }
        self.log = data_dir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    async def start(self) -> float:
        """Start and return the seconds until the web answers."""
        began = time.monotonic()
        with open(self.log, "ab") as log:
            # A session of its own, so teardown can reach the dev server it starts as well.
            self.process = subprocess.Popen(
                [*CLI, "serve"], env=self.env, stdout=log, stderr=log, start_new_session=True
            )

        async def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()[-2000:]}")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.url}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, timeout=60, what="serve answering /healthz")
        return time.monotonic() - began

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=self.env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def service(tmp_path: Path, engine: object) -> Iterator[Service]:
    policy = tmp_path / "policy.toml"
    policy.write_text(COMPACT_POLICY)
    service = Service(tmp_path, policy)
    yield service
    if service.process is not None:
        # SIGTERM first: serve stops its dev server. A SIGKILL alone would orphan it.
        try:
            service.stop()
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


@pytest.mark.slow
async def test_serve_survives_a_restart_and_takes_a_web_check_in(service: Service, session: Session) -> None:
    person = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/Berlin", team="Research")
    session.add(person)
    session.commit()

    startup = await service.start()
    assert startup < 30, f"serve took {startup:.1f} s to answer"
    started = service.cli(
        "day", "start", "-p", "ada@example.com", "--date", THURSDAY.isoformat(), "--time-scale", "120"
    )
    assert started.returncode == 0, started.stderr
    assert "Started 1" in started.stdout

    client = await Client.connect(f"127.0.0.1:{service.temporal_port}", data_converter=pydantic_data_converter)
    handle = client.get_workflow_handle_for(LearningDayWorkflow.run, workflow_id_for(person.id, THURSDAY))

    async def prompted() -> bool:
        return "plan:prompt:0" in (await handle.query(LearningDayWorkflow.status)).prompts_sent

    await eventually(prompted, what="the plan prompt")
    assert service.stop() == 0
    assert not port_is_open("127.0.0.1", service.temporal_port), "the dev server outlived serve"

    await service.start()
    async with httpx.AsyncClient(base_url=service.url) as web:
        link = f"/checkin/{checkin_token(person.id, THURSDAY)}"
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', (await web.get(link)).text)
        assert csrf, "the check-in page's form carries a CSRF token"
        page = await web.post(
            f"{link}/plan",
            data={
                "text": "Read the Raft paper",
                "why": "Our queue needs consensus",
                "category": "papers",
                "csrf_token": csrf.group(1),
            },
        )
    assert page.status_code == 200, page.text
    assert "Plan saved" in page.text

    view = await handle.result()
    assert view.state == "completed"
    assert view.plan == "Read the Raft paper"
    assert view.flags == ["missed_summary"]
    session.expire_all()
    flags = session.scalars(select(Flag.kind).where(Flag.person_id == person.id)).all()
    assert [f.value for f in flags] == ["missed_summary"]
    prompt_keys = session.scalars(
        select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.like("prompt:%"))
    ).all()
    wf = workflow_id_for(person.id, THURSDAY)
    assert sorted(prompt_keys) == sorted([f"prompt:{wf}:plan:0", f"prompt:{wf}:summary:0", f"prompt:{wf}:summary:1"])
