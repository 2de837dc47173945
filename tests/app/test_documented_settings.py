"""Every setting `.env.example` documents is one the service reads.

`LEARNINGDAY_SLACK_CHANNEL` was documented (README, `.env.example`, an error hint) and never
read. Here each `LEARNINGDAY_*` line of `.env.example` is a test: set to the example's value,
the environment variable must reach its `Settings` field, and code must read that field. The few variables that belong to other programs are listed with the file
that reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from learningday.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"
LINE = re.compile(r"^#?\s*(LEARNINGDAY_[A-Z0-9_]+)=(\S*)")
# Documented there, read by something other than `Settings`.
READ_ELSEWHERE = {"LEARNINGDAY_POLICY_PATH": ROOT / "deploy" / "compose.yaml"}
SOURCES = [p for package in ("activities", "learningday", "workflows") for p in (ROOT / package).rglob("*.py")]


def documented() -> list[tuple[str, str]]:
    found = [LINE.match(line) for line in EXAMPLE.read_text().splitlines()]
    return [(m.group(1), m.group(2)) for m in found if m]


def test_the_example_documents_settings_at_all() -> None:
    assert len(documented()) > 30


@pytest.mark.parametrize(("variable", "example"), documented(), ids=[v for v, _ in documented()])
def test_a_documented_setting_is_read(variable: str, example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if variable in READ_ELSEWHERE:
        assert variable in READ_ELSEWHERE[variable].read_text()
        return
    field = variable.removeprefix("LEARNINGDAY_").lower()
    assert field in Settings.model_fields, f"{variable} is documented but Settings has no {field!r}"

    if example and "..." not in example:
        monkeypatch.setenv(variable, example)
        assert getattr(Settings(), field) == getattr(Settings(**{field: example}), field), (
            f"{variable}={example} did not reach Settings.{field}"
        )

    used = re.compile(rf"\.{field}\b")
    readers = [p for p in SOURCES if used.search(p.read_text())]  # attribute reads, not the declaration
    assert readers, f"{variable} reaches Settings.{field}, but no code reads it"
