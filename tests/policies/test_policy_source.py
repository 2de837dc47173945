"""`current_policy()`: the configured policy file, or the defaults; a broken file is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from learningday.policy_source import current_policy
from learningday.settings import Settings
from policies.loader import PolicyFileError
from policies.policy import Policy


def test_no_policy_file_means_the_defaults() -> None:
    assert current_policy(Settings(policy_file=None, _env_file=None)) == Policy()


def test_the_configured_file_is_read_on_every_call(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("program:\n  learning_weekday: tuesday\n", encoding="utf-8")
    settings = Settings(policy_file=path, _env_file=None)
    first = current_policy(settings)

    path.write_text("program:\n  learning_weekday: friday\n", encoding="utf-8")

    assert (first.program.learning_weekday, current_policy(settings).program.learning_weekday) == (
        "tuesday",
        "friday",
    )


def test_a_broken_policy_file_is_not_silently_replaced_by_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[checkins]\nplan_prompt = "25:00"\n', encoding="utf-8")

    with pytest.raises(PolicyFileError, match=r"policy.toml:2: checkins.plan_prompt"):
        current_policy(Settings(policy_file=path, _env_file=None))
