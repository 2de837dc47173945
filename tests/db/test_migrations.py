"""Migrations on the database under test (SQLite, or PostgreSQL in CI): up, down, up again,
the schema matches the models, and the service refuses an unmigrated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from learningday.cli import app
from learningday.db import migrate
from learningday.db.engine import make_engine
from learningday.db.models import Base
from tests.conftest import reset_caches

TABLES = {
    "people",
    "absences",
    "learning_days",
    "check_ins",
    "calendar_holds",
    "flags",
    "expense_claims",
    "claim_decisions",
    "used_tokens",
    "outbox",
    "audit_log",
    "delivery_problems",
    "installation",
    "sign_in_requests",
}


def test_head_schema_matches_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert TABLES <= set(inspect(engine).get_table_names())


def test_downgrade_to_base_and_back_to_head(database_url: str, engine) -> None:  # type: ignore[no-untyped-def]
    migrate.downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) & TABLES == set()
    migrate.upgrade(database_url)
    assert migrate.current_revision(engine) == migrate.head_revision(database_url)
    assert TABLES <= set(inspect(engine).get_table_names())


def test_people_stored_before_sessions_had_versions_get_version_one(database_url: str, engine) -> None:  # type: ignore[no-untyped-def]
    migrate.downgrade(database_url, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (email, name, timezone, role, active, created_at, updated_at) "
                "VALUES ('ada@example.com', 'Ada', 'UTC', 'learner', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT session_version FROM people")).scalar_one() == 1


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(migrate.DatabaseNotMigrated, match="Run `learningday db upgrade`"):
        migrate.require_migrated(engine)


def test_db_upgrade_command_migrates_a_new_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("LEARNINGDAY_DATABASE_URL", url)
    reset_caches()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "revision" in result.output
        engine = make_engine(url)
        migrate.require_migrated(engine)  # does not raise
    finally:
        monkeypatch.setenv("LEARNINGDAY_DATABASE_URL", database_url)
        reset_caches()
