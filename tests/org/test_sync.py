"""`learningday org sync`: the directory from Google Workspace's Admin SDK and Slack ids by email,
through the real googleapiclient and slack_sdk against the local peers, with the same checks as
`org import`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from learningday.cli import app
from learningday.db.models import AuditEntry, Person, Role
from learningday.settings import get_settings
from tests.org.conftest import directory
from tests.peers.google import GooglePeer
from tests.peers.slack import BOT_TOKEN, SlackPeer, running_slack_peer

runner = CliRunner()
ADMIN = "it-admin@example.com"


def account(
    email: str,
    name: str,
    manager: str | None = None,
    department: str | None = "Research",
    tz: str | None = "Europe/Berlin",
    **extra: Any,
) -> dict[str, Any]:
    user: dict[str, Any] = {"primaryEmail": email, "name": {"fullName": name}, **extra}
    if manager:
        user["relations"] = [{"type": "manager", "value": manager}]
    if department:
        user["organizations"] = [{"primary": True, "department": department, "title": "Engineer"}]
    if tz:
        user["customSchemas"] = {"LearningDay": {"timezone": tz}}
    return user


@pytest.fixture
def peers(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GooglePeer, SlackPeer]]:
    with GooglePeer() as google, running_slack_peer() as slack:
        key = tmp_path / "key.json"
        google.write_key_file(key)
        google.allow_directory_admin(ADMIN)
        for name, value in {
            "GOOGLE_SERVICE_ACCOUNT_FILE": str(key),
            "GOOGLE_API_ENDPOINT": google.url,
            "GOOGLE_ADMIN_SUBJECT": ADMIN,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_BASE_URL": slack.base_url,
        }.items():
            monkeypatch.setenv(f"LEARNINGDAY_{name}", value)
        get_settings.cache_clear()
        yield google, slack
    get_settings.cache_clear()


def test_sync_creates_people_with_managers_teams_timezones_and_slack_ids(
    peers: tuple[GooglePeer, SlackPeer], engine: Engine
) -> None:
    google, slack = peers
    google.add_directory_user(account("lead@example.com", "Lee Lead", department="Platform"))
    google.add_directory_user(
        account("ann@example.com", "Ann Able", manager="lead@example.com", department="Platform", tz=None)
    )
    google.add_directory_user(account("gone@example.com", "Gone Person", suspended=True))
    ann_slack = slack.add_user("ann@example.com")

    result = runner.invoke(app, ["org", "sync"])

    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip().splitlines()[-1] == "created 2, updated 0, unchanged 0, left out 1 suspended or archived"
    )
    assert directory(engine) == {
        "lead@example.com": ("Lee Lead", "Platform", None, "Europe/Berlin", True),
        "ann@example.com": ("Ann Able", "Platform", "lead@example.com", "UTC", True),  # no custom field: the default
    }
    with Session(engine) as session:
        ann = session.query(Person).filter_by(email="ann@example.com").one()
        assert ann.slack_user_id == ann_slack
        assert session.query(AuditEntry).filter_by(actor="cli:org-sync").count() == 2
    assert "lead@example.com: no Slack account" in result.stderr
    # Every request matched the Admin SDK's discovery document, as the impersonated admin.
    assert google.schema_errors == []
    listed = google.api_requests("GET", "/admin/directory/v1/users")
    assert listed and all(r.user == ADMIN for r in listed)
    assert listed[0].query["customer"] == ["my_customer"] and listed[0].query["projection"] == ["full"]
    assert [c.args.get("email") for c in slack.calls_to("users.lookupByEmail")] == [
        "ann@example.com",
        "lead@example.com",
    ]


def test_sync_reads_every_page(peers: tuple[GooglePeer, SlackPeer], engine: Engine) -> None:
    google, _ = peers
    for n in range(1203):
        google.add_directory_user(account(f"p{n:04d}@example.com", f"Person {n}", tz="UTC"))
    result = runner.invoke(app, ["org", "sync"])
    assert result.exit_code == 0, result.output
    assert len(directory(engine)) == 1203
    assert len(google.api_requests("GET", "/admin/directory/v1/users")) == 3  # 500 + 500 + 203


def test_dry_run_shows_the_changes_and_writes_nothing(
    peers: tuple[GooglePeer, SlackPeer], engine: Engine, session: Session
) -> None:
    google, _ = peers
    session.add(
        Person(email="lead@example.com", name="Lee Lead", timezone="Europe/Berlin", team="Research", role=Role.admin)
    )
    session.commit()
    google.add_directory_user(account("lead@example.com", "Lee Lead", department="Platform"))
    google.add_directory_user(account("ann@example.com", "Ann Able", manager="lead@example.com"))

    result = runner.invoke(app, ["org", "sync", "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert ["update", "lead@example.com", "team=Platform"] in [line.split() for line in lines]
    created = next(line for line in lines if line.startswith("create"))
    assert (
        "ann@example.com" in created and "manager=lead@example.com" in created and "timezone=Europe/Berlin" in created
    )
    assert lines[-1] == "dry run, nothing written: would have created 1, updated 1, unchanged 0"
    assert directory(engine) == {"lead@example.com": ("Lee Lead", "Research", None, "Europe/Berlin", True)}
    applied = runner.invoke(app, ["org", "sync"])
    assert applied.exit_code == 0
    with Session(engine) as check:
        assert check.query(Person).filter_by(email="lead@example.com").one().role == Role.admin  # sync never demotes


def test_a_directory_the_import_rules_refuse_changes_nothing(
    peers: tuple[GooglePeer, SlackPeer], engine: Engine
) -> None:
    google, _ = peers
    google.add_directory_user(account("ok@example.com", "Okay"))
    google.add_directory_user(account("bad@example.com", "Bad Zone", tz="Europe/Berln"))

    result = runner.invoke(app, ["org", "sync"])

    assert result.exit_code == 1
    assert (
        "user bad@example.com: timezone: unknown timezone 'Europe/Berln'; did you mean Europe/Berlin?" in result.stderr
    )
    assert directory(engine) == {}


def test_a_manager_outside_the_directory_is_dropped_with_a_warning(
    peers: tuple[GooglePeer, SlackPeer], engine: Engine
) -> None:
    google, _ = peers
    google.add_directory_user(account("boss@example.com", "Boss", suspended=True))
    google.add_directory_user(account("ann@example.com", "Ann Able", manager="boss@example.com"))
    result = runner.invoke(app, ["org", "sync"])
    assert result.exit_code == 0, result.output
    assert "manager boss@example.com is not an active account" in result.stderr
    assert directory(engine)["ann@example.com"][2] is None


def test_without_admin_rights_the_sync_fails_clearly(
    peers: tuple[GooglePeer, SlackPeer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNINGDAY_GOOGLE_ADMIN_SUBJECT", "not-admin@example.com")
    get_settings.cache_clear()
    result = runner.invoke(app, ["org", "sync"])
    assert result.exit_code == 1
    assert "the Google directory refused (403: Not Authorized" in result.stderr
    assert "LEARNINGDAY_GOOGLE_ADMIN_SUBJECT is a Workspace admin" in result.stderr


def test_without_google_settings_the_sync_says_what_to_set(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["org", "sync"])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert "LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE" in result.stderr


def test_a_directory_name_with_a_line_break_is_refused_like_any_other_bad_row(
    peers: tuple[GooglePeer, SlackPeer], engine: Engine
) -> None:
    google, _ = peers
    google.add_directory_user(account("ok@example.com", "Okay"))
    google.add_directory_user(account("ada@example.com", "Ada\nLovelace"))

    result = runner.invoke(app, ["org", "sync"])

    assert result.exit_code == 1
    assert "user ada@example.com: name: contains a line break (U+000A)" in result.stderr
    assert directory(engine) == {}
