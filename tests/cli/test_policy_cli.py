"""`learningday policy check | show | init`, run as an admin would."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from learningday.cli import app
from learningday.settings import get_settings
from policies.loader import load_policy
from policies.policy import Policy

runner = CliRunner()
DEFAULT_FILE = Path(__file__).parents[2] / "policies" / "default.toml"

GOOD = """\
[program]
learning_weekday = "wednesday"

[checkins]
plan_prompt = "08:30"
plan_reminders = ["09:30"]
plan_deadline = "11:00"

[holidays]
country = "DE"
subdivision = "BY"
extra_dates = [2026-12-24, 2026-12-31]

[reimbursement]
currency = "EUR"
second_approver = "finance"
finance_email = "finance@example.com"

[reimbursement.categories.books]
cap = 19.99
"""

BAD = """\
[checkins]
plan_prompt = "09:00"
plan_deadline = "08:00"

[holidays]
country = "XX"

[program]
learning_day = "thursday"
"""


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Settings read from this test's environment, and no stray `.env` from the cwd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEARNINGDAY_POLICY_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- check ------------------------------------------------------------------------------


def test_check_of_a_good_file_prints_ok_with_a_summary(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.toml", GOOD)

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"OK: {path} (learning day: wednesday, plan 08:30–11:00, summary 16:30–20:00, "
        "holidays: DE-BY + 2 company day(s), budget 1500 EUR/year, second approval above 500)\n"
    )


def test_check_of_a_bad_file_prints_every_error_with_its_line_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.toml", BAD)

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:3: checkins.plan_deadline: must be after checkins.plan_prompt"
    assert lines[1].startswith(f"{path}:6: holidays.country: 'XX' is not a country")
    assert lines[2] == (
        f"{path}:9: program.learning_day: unknown key 'learning_day' in [program]; did you mean 'learning_weekday'?"
    )
    assert lines[3:] == [f"{path}: 3 problems"]


def test_check_of_a_yaml_file_with_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.yaml", "checkins:\n  plan_prompt: 09:00\n plan_deadline: 12:00\n")

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"{path}:3: invalid YAML")


def test_check_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "nope.toml")])

    assert result.exit_code == 1
    assert result.stderr.startswith(f"{tmp_path / 'nope.toml'}: cannot read the file")


# --- show -------------------------------------------------------------------------------


def test_show_prints_the_effective_policy_as_toml_that_loads_back_equal(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.toml", GOOD)

    result = runner.invoke(app, ["policy", "show", str(path)])

    assert result.exit_code == 0, result.output
    shown = write(tmp_path, "shown.toml", result.stdout)
    assert load_policy(shown) == load_policy(path)
    data = tomllib.loads(result.stdout)
    assert data["checkins"]["summary_deadline"] == "20:00"  # a default, filled in
    assert data["reimbursement"]["categories"]["books"]["cap"] == "19.99"  # exact, not a float
    assert load_policy(shown).reimbursement.categories["books"].cap == Decimal("19.99")


def test_show_keeps_switched_off_settings_switched_off(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.yaml", "holidays:\n  country: ''\n")

    result = runner.invoke(app, ["policy", "show", str(path)])

    shown = write(tmp_path, "shown.toml", result.stdout)
    assert load_policy(shown).holidays.country is None


def test_show_without_a_file_uses_the_configured_policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "configured.toml", '[program]\nlearning_weekday = "friday"\n')
    monkeypatch.setenv("LEARNINGDAY_POLICY_FILE", str(path))

    result = runner.invoke(app, ["policy", "show"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"# Effective Learning Day policy from {path}.\n")
    assert tomllib.loads(result.stdout)["program"]["learning_weekday"] == "friday"


def test_show_without_any_file_prints_the_defaults(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "show"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Effective Learning Day policy from the built-in defaults.\n")
    assert load_policy(write(tmp_path, "shown.toml", result.stdout)) == Policy()


def test_show_of_a_bad_file_prints_the_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.toml", BAD)

    result = runner.invoke(app, ["policy", "show", str(path)])

    assert result.exit_code == 1 and result.stdout == ""
    assert f"{path}:3: checkins.plan_deadline" in result.stderr


# --- init -------------------------------------------------------------------------------


def test_init_writes_the_commented_default_policy(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "init"])

    assert result.exit_code == 0, result.output
    written = tmp_path / "policy.toml"
    assert written.read_text(encoding="utf-8") == DEFAULT_FILE.read_text(encoding="utf-8")
    assert load_policy(written) == Policy()
    assert "LEARNINGDAY_POLICY_FILE=policy.toml" in result.stdout


def test_init_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.toml", "# my careful edits\n")

    result = runner.invoke(app, ["policy", "init", str(path)])

    assert result.exit_code == 1
    assert "already exists; not overwriting it" in result.stderr
    assert path.read_text(encoding="utf-8") == "# my careful edits\n"


def test_init_only_writes_toml(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "init", str(tmp_path / "policy.yaml")])

    assert result.exit_code == 1 and not (tmp_path / "policy.yaml").exists()
    assert "give a path ending in .toml" in result.stderr
