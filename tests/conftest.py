"""Shared fixtures: the real Temporal dev server and time-skipping test server, a migrated database (SQLite by default, PostgreSQL when
LEARNINGDAY_TEST_DATABASE_URL says so) and settings pointing at a scratch data directory."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
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


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    """The test database, emptied and migrated to head once per session."""
    url = os.environ.get(TEST_DATABASE_URL_ENV) or f"sqlite:///{data_dir / 'test.db'}"
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
