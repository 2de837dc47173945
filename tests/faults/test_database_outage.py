"""PostgreSQL dropping the worker's connections again and again during a Learning Day.

Restarting the machine's shared PostgreSQL would disrupt everyone else using it, so the outage
is simulated where it hurts the same way: every connection this test's engine holds is
terminated by the server (`pg_terminate_backend`) every few hundred milliseconds, idle or in
the middle of a transaction. Pooled connections are checked before use (`pool_pre_ping`); a
statement cut off mid-transaction fails its activity, which Temporal retries. Nothing may be
lost or recorded twice. SQLite has no server to lose, so this runs only on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from learningday.db import engine as db_engine
from learningday.db.models import CheckIn, DayState, Flag, LearningDay
from learningday.settings import Settings
from learningday.temporal.worker import Ports, build_workers
from policies.policy import Policy
from tests.conftest import reset_caches
from tests.faults.failures import RecordFailures
from tests.workflows.conftest import FakeCalendar, FakeChat, Harness
from tests.workflows.test_learning_day import add_person, plan, prompted, start_day
from workflows.learning_day import LearningDayWorkflow

pytestmark = pytest.mark.slow


@pytest.fixture
def tagged_database(database_url: str) -> Iterator[str]:
    """The worker's engine for this test connects with an application_name of its own, so the
    terminations hit this test's connections and nobody else's."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (LEARNINGDAY_TEST_DATABASE_URL): SQLite has no server connection to lose")
    name = f"ld-fault-{uuid.uuid4().hex[:8]}"
    os.environ["LEARNINGDAY_DATABASE_URL"] = f"{database_url}?application_name={name}"
    reset_caches()
    try:
        yield name
    finally:
        db_engine.get_engine().dispose()
        os.environ["LEARNINGDAY_DATABASE_URL"] = database_url
        reset_caches()


async def keep_terminating(name: str, every: float, terminated: list[int]) -> None:
    killer = db_engine.make_engine(os.environ["LEARNINGDAY_DATABASE_URL"].split("?")[0])
    try:
        while True:
            with killer.begin() as connection:
                killed = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).scalar_one()
            terminated.append(int(killed))
            await asyncio.sleep(every)
    finally:
        killer.dispose()


async def test_connections_killed_throughout_a_day_lose_and_double_nothing(
    temporal_env: WorkflowEnvironment, tagged_database: str, session: Session
) -> None:
    person = add_person(session)
    failures = RecordFailures()
    terminated: list[int] = []
    queue = f"pg-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")
    h = Harness(temporal_env.client, settings, FakeCalendar(), FakeChat(), Policy())
    workers = build_workers(
        h.client,
        settings,
        Ports(calendar=h.calendar, chat=h.chat),
        policy_loader=lambda: h.policy,
        interceptors=[failures],
    )
    running = [asyncio.create_task(w.run()) for w in workers]
    killer = asyncio.create_task(keep_terminating(tagged_database, 0.2, terminated))
    try:
        handle = await start_day(h, person)
        await prompted(handle, "plan:prompt:0")
        await handle.execute_update(LearningDayWorkflow.submit_check_in, plan())
        view = await handle.result()
    finally:
        killer.cancel()
        for worker in workers:
            await worker.shutdown()
        await asyncio.gather(killer, *running, return_exceptions=True)

    assert sum(terminated) > 0, "no connection was ever terminated: the fault was not injected"
    assert (view.state, view.flags) == ("completed", ["missed_summary"])
    session.expire_all()
    day = session.scalars(select(LearningDay).where(LearningDay.person_id == person.id)).one()
    assert day.state == DayState.completed
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1
    assert [f.kind.value for f in session.scalars(select(Flag))] == ["missed_summary"]
    assert h.calendar.inserts == 1 and len(h.chat.posts) == 1
    print(f"connections terminated: {sum(terminated)}; activity attempts failed and retried: {len(failures.failed)}")
