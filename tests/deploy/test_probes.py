"""Probes, metrics, logs and worker tuning, as a Kubernetes probe, Prometheus and a log pipeline
see them (the real dev server for Temporal, the test database for the database)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from learningday import metrics
from learningday.logging_setup import JsonFormatter
from learningday.settings import Settings
from learningday.temporal.devserver import DevServer, free_port
from learningday.temporal.worker import CHANNEL_TURNS_AT_ONCE, build_workers
from learningday.web.health import probe_app
from tests.waiting import eventually


async def _get(app, path: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        return await client.get(path)


async def connected(server: DevServer) -> Client:
    """A client, once the frontend is healthy (its port opens a moment before it serves)."""
    clients: list[Client] = []

    async def connect() -> bool:
        try:
            clients.append(await Client.connect(server.address))
            return True
        except RuntimeError:
            return False

    await eventually(connect, timeout=30, what="the dev server's frontend")
    return clients[0]


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with DevServer(db_file=tmp_path_factory.mktemp("probes") / "temporal.db", port=free_port(), ui_port=None) as server:
        yield server


async def test_ready_when_database_and_temporal_answer(engine: object, dev_server: DevServer) -> None:
    client = await connected(dev_server)
    response = await _get(probe_app(client), "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}


async def test_not_ready_names_the_dependency_that_failed(engine: object, tmp_path: Path) -> None:
    server = DevServer(db_file=tmp_path / "temporal.db", port=free_port(), ui_port=None)
    server.start()
    client = await connected(server)
    server.kill()  # Temporal goes away; the database is still there
    response = await _get(probe_app(client), "/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["temporal"].startswith("failed")
    # Liveness does not depend on anything: restarting the pod would not bring Temporal back.
    assert (await _get(probe_app(client), "/healthz")).status_code == 200


async def test_not_ready_without_a_temporal_client(engine: object) -> None:
    response = await _get(probe_app(None), "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["temporal"] == "failed: no Temporal client in this process"


async def test_metrics_endpoint_exposes_our_counters() -> None:
    before = metrics.flags.labels("missed_plan")._value.get()
    metrics.flags.labels("missed_plan").inc()
    response = await _get(probe_app(None), "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert f'learningday_flags_total{{kind="missed_plan"}} {before + 1}' in response.text
    for name in ("days_started", "check_ins", "claims", "emails_sent"):
        assert re.search(rf"^# TYPE learningday_{name}(_total)? counter$", response.text, re.M), name


def test_json_log_lines_carry_the_activity_ids_and_nothing_else() -> None:
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(JsonFormatter().format(record))

    logger = logging.getLogger("tests.deploy.json")
    logger.addHandler(Capture())
    logger.propagate = False

    @activity.defn
    def noisy() -> None:
        logger.warning("placed hold %s", "evt123")

    ActivityEnvironment().run(noisy)
    logger.warning("outside")
    inside, outside = (json.loads(line) for line in records)
    assert inside["message"] == "placed hold evt123"
    assert inside["level"] == "WARNING" and inside["logger"] == "tests.deploy.json"
    assert inside["workflow_id"] == "test" and inside["activity_type"] == "unknown"
    assert "attempt" in inside and "time" in inside
    assert set(outside) == {"time", "level", "logger", "message"}


async def test_worker_tuning_comes_from_settings(dev_server: DevServer) -> None:
    client = await connected(dev_server)
    settings = Settings(
        worker_max_concurrent_activities=7,
        worker_max_concurrent_workflow_tasks=9,
        worker_max_concurrent_local_activities=5,
        worker_max_cached_workflows=11,
        channel_posts_per_second=3.5,
        graceful_shutdown_seconds=42,
    )
    main, channel = build_workers(client, settings)
    assert main.config()["max_concurrent_activities"] == 7
    assert main.config()["max_concurrent_workflow_tasks"] == 9
    assert main.config()["max_cached_workflows"] == 11
    assert main.config()["max_concurrent_local_activities"] == 5
    # A thread for every activity and local activity slot, and for each channel turn at once.
    turns = channel.config()["max_concurrent_activities"]
    assert turns == CHANNEL_TURNS_AT_ONCE > 1
    assert main.config()["activity_executor"]._max_workers == 7 + 5 + turns  # type: ignore[attr-defined]
    assert main.config()["graceful_shutdown_timeout"].total_seconds() == 42
    assert channel.config()["graceful_shutdown_timeout"].total_seconds() == 42
    assert channel.config()["task_queue"] == settings.temporal_channel_task_queue


def test_log_format_is_checked() -> None:
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


def test_a_retried_flag_is_counted_once(session) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from activities.records.day import DayRecords
    from learningday.contracts.day import FlagRecord
    from learningday.db.models import Person

    person = Person(email="grace@example.com", name="Grace Hopper", timezone="UTC")
    session.add(person)
    session.commit()
    records = DayRecords(lambda: None, lambda *_: "")
    flag = FlagRecord(
        person_id=person.id,
        learning_day_id=None,
        kind="missed_summary",
        date=dt.date(2026, 12, 3),
        reason="no summary",
        at=dt.datetime(2026, 12, 3, 20, tzinfo=dt.UTC),
    )
    counter = metrics.flags.labels("missed_summary")
    before = counter._value.get()
    first = ActivityEnvironment().run(records.record_flag, flag)
    again = ActivityEnvironment().run(records.record_flag, flag)  # a retry after a lost ack
    assert first == again
    assert counter._value.get() == before + 1
