"""Shared fixtures: the real Temporal dev server and time-skipping test server, a migrated database (SQLite by default, PostgreSQL when
LEARNINGDAY_TEST_DATABASE_URL says so) and settings pointing at a scratch data directory."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from learningday import settings as settings_module
from learningday.db import engine as db_engine
from learningday.db import migrate
from learningday.db.models import Base
from learningday.temporal.devserver import find_temporal_binary

TEST_DATABASE_URL_ENV = "LEARNINGDAY_TEST_DATABASE_URL"


def reset_caches() -> None:
    settings_module.get_settings.cache_clear()
    db_engine.get_engine.cache_clear()
    db_engine._sessionmaker.cache_clear()


def _drop_everything(url: str) -> None:
    engine = db_engine.make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files that hold a `slow` test run first, each file's tests kept together. pytest-xdist
    deals whole files out to its worker processes in this order (`--dist loadfile`), so the
    minutes-long end-to-end and fault files start at once, side by side, and the thousand short
    tests fill the gaps around them instead of one long file starting last and running alone."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


def _own_database(url: str) -> str:
    """The database this test process may empty and migrate. Under pytest-xdist each worker
    process (PYTEST_XDIST_WORKER = gw0, gw1, …) runs its share of the suite at the same time as
    the others, so on a server each gets a database of its own beside the one named
    (`test` → `test_gw0`), created on first use; SQLite files already live in each worker's
    own temporary directory."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or url.startswith("sqlite"):
        return url
    named = make_url(url)
    own = named.set(database=f"{named.database}_{worker}")
    server = db_engine.make_engine(url)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database})
        if exists.first() is None:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    server.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    """The test database, emptied and migrated to head once per session."""
    url = _own_database(os.environ.get(TEST_DATABASE_URL_ENV) or f"sqlite:///{data_dir / 'test.db'}")
    _drop_everything(url)
    migrate.upgrade(url)
    os.environ["LEARNINGDAY_DATABASE_URL"] = url
    os.environ["LEARNINGDAY_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("LEARNINGDAY_SECRET_KEY", "test-secret-key")
    # A service the tests start runs one worker process (tests/cli/test_worker_processes.py
    # runs more): the suite shares two cores with it.
    os.environ.setdefault("LEARNINGDAY_WORKER_PROCESSES", "1")
    reset_caches()
    yield url
    reset_caches()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated test database; every table is emptied after the test."""
    engine = db_engine.get_engine()
    yield engine
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal"],
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server per test: its one global clock only moves forward, so a
    shared server would leave the next test's day already in the past (it starts in 0.3 s)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()
