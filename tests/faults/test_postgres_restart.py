"""PostgreSQL restarted in the middle of three Learning Days: the writes that fall due while it
is down are retried with backoff, nothing is lost or recorded twice, and an operator sees it.

The machine's PostgreSQL on 5432 is shared with other sessions and the CI run and must not be
restarted, so this test brings a cluster of its own (`tests/faults/private_postgres.py`),
migrates it and points the worker at it; it runs the same on both CI passes. The restart is a
real one — `pg_ctl stop -m fast` (every connection closed, the port refusing), then `pg_ctl
start` — from a second before the plan cutoff, where the day without a plan records its
flag, through the summary prompt, where the two others record their new state; it stays down
until each day's write has failed, backed off and failed again (about five seconds). The
database writes are local activities, retried in the worker by the workflow's `RETRY` (after
1 s, then doubling).

Asserted afterwards: every day completes with the expected flags; the database holds each day,
check-in, flag, state change and flag email exactly once; every failed attempt was a database
connection error, retried, logged as a warning naming the activity, the workflow and the error
(with no personal data at the service's INFO level), and counted in `learningday_activity_retries`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy.exc
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from learningday import metrics
from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db import engine as db_engine
from learningday.db import migrate
from learningday.db.models import AuditEntry, CheckIn, DayState, Flag, LearningDay, OutboxMessage, Person
from learningday.logging_setup import JsonFormatter
from learningday.settings import Settings
from learningday.temporal.worker import Ports, build_workers
from tests.conftest import reset_caches
from tests.faults.failures import RecordFailures
from tests.faults.private_postgres import PrivatePostgres, find_server_binaries, private_postgres
from tests.waiting import eventually
from tests.workflows.conftest import FakeCalendar, FakeChat, Harness
from tests.workflows.test_learning_day import THURSDAY, compact_policy, plan, summary
from workflows.learning_day import LearningDayWorkflow

pytestmark = pytest.mark.slow

# One policy minute = 0.6 s: plan cutoff at 15 s, summary prompt at 18 s, summary cutoff at 33 s.
# The retries after the restart come at most a few seconds late, well before the summary.
SCALE = 100.0
DATABASE_ACTIVITIES = {
    "load_day_context",
    "record_day_state",
    "record_check_in",
    "record_flag",
    "record_work_judgement",
    "notify_day_flags",
    "dm_managers_about_day_flags",
}
# The environment the app reads its database and data directory from (restored afterwards).
APP_ENV = ("LEARNINGDAY_DATABASE_URL", "LEARNINGDAY_DATA_DIR", "LEARNINGDAY_SECRET_KEY")


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    bindir = find_server_binaries()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/*/bin or on PATH")
    with private_postgres(bindir) as pg:
        yield pg


@pytest.fixture
def app_database(cluster: PrivatePostgres, tmp_path: Path) -> Iterator[str]:
    """The app (settings, cached engine) pointed at a migrated database on the private cluster,
    with a scratch data directory; everything is put back for the tests that follow."""
    url = cluster.create_database("learningday")
    migrate.upgrade(url)
    saved = {name: os.environ.get(name) for name in APP_ENV}
    os.environ.update({"LEARNINGDAY_DATABASE_URL": url, "LEARNINGDAY_DATA_DIR": str(tmp_path)})
    os.environ.setdefault("LEARNINGDAY_SECRET_KEY", "test-secret-key")
    reset_caches()
    try:
        yield url
    finally:
        db_engine.get_engine().dispose()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_caches()


def metric_samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Our counters as `/metrics` serves them."""
    body, _ = metrics.exposition()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        if family.name.startswith("learningday_")
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def moved(before: dict, after: dict, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """How much each labelled series of counter `name` grew (series that did not are left out)."""
    grew = {labels: value - before.get((n, labels), 0.0) for (n, labels), value in after.items() if n == name}
    return {labels: delta for labels, delta in grew.items() if delta}


def add_people(session: Session) -> tuple[Person, Person, Person]:
    mia = Person(email="mia@example.com", name="Mia Manager", timezone="Europe/Berlin")
    session.add(mia)
    session.flush()
    people = tuple(
        Person(email=f"{name}@example.com", name=f"{name.title()} Tester", timezone="Europe/Berlin", manager_id=mia.id)
        for name in ("ada", "bob", "cyd")
    )
    session.add_all(people)
    session.commit()
    return people  # type: ignore[return-value]


async def test_postgres_restarted_mid_day_is_retried_with_backoff_seen_and_loses_nothing(
    temporal_env: WorkflowEnvironment,
    cluster: PrivatePostgres,
    app_database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    check = db_engine.make_engine(app_database)  # the test's own connections, for the assertions
    session = Session(check, expire_on_commit=False)
    ada, bob, cyd = people = add_people(session)
    failures = RecordFailures()
    queue = f"pg-restart-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")
    h = Harness(temporal_env.client, settings, FakeCalendar(), FakeChat(), compact_policy())
    workers = build_workers(
        h.client,
        settings,
        Ports(calendar=h.calendar, chat=h.chat),
        policy_loader=lambda: h.policy,
        channel_posts_per_second=50,
        interceptors=[failures],
    )
    running = [asyncio.create_task(w.run()) for w in workers]
    before = metric_samples()
    began = time.monotonic()
    try:
        handles = {
            p.email: await h.client.start_workflow(
                LearningDayWorkflow.run,
                LearningDayInput(person_id=p.id, date=THURSDAY, time_scale=SCALE),
                id=workflow_id_for(p.id, THURSDAY),
                task_queue=queue,
            )
            for p in people
        }
        views: dict[str, DayView] = {}

        async def prompted(key: str, *who: Person) -> bool:
            for p in who:
                views[p.email] = await handles[p.email].query(LearningDayWorkflow.status)
            return all(key in views[p.email].prompts_sent for p in who)

        await eventually(lambda: prompted("plan:prompt:0", *people), what="three plan prompts")
        for p in (ada, bob):  # cyd writes no plan: flagged at the cutoff, in the outage
            await handles[p.email].execute_update(LearningDayWorkflow.submit_check_in, plan(f"{p.name}'s topic"))
        cutoff = min(v.instants.plan_cutoff for v in views.values() if v.instants is not None)
        # Down from a moment before the plan cutoff (cyd's flag) through the summary prompt
        # (ada's and bob's new state): a moment in the day, not a condition, so it is waited for.
        await asyncio.sleep(max(0.0, (cutoff - dt.datetime.now(dt.UTC)).total_seconds() - 1.0))
        assert not failures.failed, f"a database write failed before the restart: {failures.failed}"

        down_at = time.monotonic()
        await asyncio.to_thread(cluster.stop, "fast")

        async def every_day_failed_twice() -> bool:
            # Each day's write failed, waited out its backoff, and failed again.
            return all(failures.per_workflow()[hd.id] >= 2 for hd in handles.values())

        await eventually(every_day_failed_twice, timeout=30, what="every day's write failing twice while down")
        await asyncio.to_thread(cluster.start)
        up_at = time.monotonic()
        failed_in_outage = len(failures.failed)

        await eventually(lambda: prompted("summary:prompt:0", ada, cyd), timeout=60, what="summary prompts")
        for p in (ada, cyd):  # bob writes no summary: flagged, with the database back
            await handles[p.email].execute_update(LearningDayWorkflow.submit_check_in, summary(f"{p.name} learned"))
        results = await asyncio.wait_for(asyncio.gather(*(hd.result() for hd in handles.values())), timeout=120)
        finished = {p.email: view for p, view in zip(people, results)}
    finally:
        for worker in workers:
            await worker.shutdown()
        await asyncio.gather(*running, return_exceptions=True)
    after = metric_samples()
    duration = time.monotonic() - began

    try:
        # Every day completes as if the database had never gone away.
        assert {e: (v.state, v.flags) for e, v in finished.items()} == {
            ada.email: ("completed", []),
            bob.email: ("completed", ["missed_summary"]),
            cyd.email: ("completed", ["missed_plan"]),
        }

        # The failures were the restart, and only the restart: database connection errors, in
        # database activities, while the server was down; every one retried, none left over.
        assert failures.failed, "no write failed: the restart missed the day"
        assert {f.activity_type for f in failures.failed} <= DATABASE_ACTIVITIES
        assert all(isinstance(f.error, sqlalchemy.exc.OperationalError) for f in failures.failed), failures.failed
        assert all(down_at <= f.at <= up_at + 0.5 for f in failures.failed), "a write failed with the server back up"
        attempts = Counter((f.workflow_id, f.activity_type) for f in failures.failed)
        assert set(failures.per_workflow()) == {hd.id for hd in handles.values()}, attempts
        assert all(n >= 2 for n in failures.per_workflow().values()), attempts
        assert {f.attempt for f in failures.failed} >= {1, 2}  # backed off and tried again, in the outage

        # The operator sees it in the metrics: one retry counted per failed attempt, by activity.
        failed_by_type = Counter(f.activity_type for f in failures.failed)
        retried = moved(before, after, "learningday_activity_retries_total")
        assert {dict(labels)["activity"]: n for labels, n in retried.items()} == failed_by_type
        # ... and nothing counted twice: three days, four check-ins (none an edit), two flags.
        assert moved(before, after, "learningday_days_started_total") == {(): 3.0}
        assert moved(before, after, "learningday_check_ins_total") == {
            (("edited", "false"), ("kind", "plan")): 2.0,
            (("edited", "false"), ("kind", "summary")): 2.0,
        }
        assert moved(before, after, "learningday_flags_total") == {
            (("kind", "missed_plan"),): 1.0,
            (("kind", "missed_summary"),): 1.0,
        }

        # ... and in the logs: every failed attempt a warning naming the activity, the day's
        # workflow and the connection error, in the production JSON format.
        # At the service's level (INFO; at DEBUG the SDK dumps activity results, which name people).
        lines = [JsonFormatter().format(r) for r in caplog.records if r.levelno >= logging.INFO]
        warned = [
            JsonFormatter().format(r)
            for r in caplog.records
            if r.levelno >= logging.WARNING and r.name == "temporalio.activity" and r.exc_info
        ]
        assert len(warned) == len(failures.failed)
        for f in failures.failed:
            assert any(
                '"level": "WARNING"' in w
                and f'"activity_type": "{f.activity_type}"' in w
                and f'"workflow_id": "{f.workflow_id}"' in w
                and "OperationalError" in w
                and f"port {cluster.port} failed" in w
                for w in warned
            ), f"no warning for {f}"
        personal = [
            "mia@example.com",
            "Mia Manager",
            *(p.email for p in people),
            *(p.name for p in people),
            *(f"{p.name}'s topic" for p in people),
            *(f"{p.name} learned" for p in people),
        ]
        leaked = sorted({word for word in personal for line in lines if word in line})
        assert not leaked, f"personal data in the logs: {leaked}"

        # The database holds each thing once.
        session.expire_all()
        days = session.scalars(select(LearningDay).order_by(LearningDay.person_id)).all()
        assert [(d.person_id, d.state) for d in days] == [(p.id, DayState.completed) for p in people]
        check_ins = session.scalars(select(CheckIn)).all()
        by_day = {d.id: d.person_id for d in days}
        assert sorted((by_day[c.learning_day_id], c.kind.value) for c in check_ins) == sorted(
            [(ada.id, "plan"), (ada.id, "summary"), (bob.id, "plan"), (cyd.id, "summary")]
        )
        assert all(c.edited_at is None for c in check_ins)  # a retried write is not an edit
        flags = session.scalars(select(Flag)).all()
        assert sorted((f.person_id, f.kind.value) for f in flags) == [
            (bob.id, "missed_summary"),
            (cyd.id, "missed_plan"),
        ]
        audit = [
            tuple(row)
            for row in session.execute(
                select(AuditEntry.action, AuditEntry.subject_type, AuditEntry.subject_id).order_by(AuditEntry.id)
            )
        ]
        repeated = [entry for entry, n in Counter(audit).items() if n > 1]
        assert not repeated, f"recorded twice: {repeated}"
        for d in days:
            assert [a for a, s, i in audit if s == "learning_day" and i == str(d.id)] == [
                "day_scheduled",
                "day_held",
                "day_planning",
                "day_learning",
                "day_summarising",
                "work_judged",
                "day_completed",
            ]
        emails = session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.channel == "email")).all()
        # One email per flagged day and recipient (the manager and the person flagged), none repeated.
        assert sorted(emails) == sorted(
            f"day-flags:{f.person_id}:{f.date}:{who}" for f in flags for who in (ada.manager_id, f.person_id)
        )
        # The outside world saw each thing once too: one hold each, four posts.
        assert h.calendar.inserts == 3 and len(h.chat.posts) == 4
    finally:
        session.close()
        check.dispose()

    print(
        f"\n{len(handles)} days; PostgreSQL down {up_at - down_at:.2f} s (fast stop to accepting again); "
        f"{failed_in_outage} failed attempts retried ({dict(Counter(f.activity_type for f in failures.failed))}, "
        f"highest attempt {max(f.attempt for f in failures.failed)}); test {duration:.1f} s"
    )
