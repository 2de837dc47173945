"""CLI tests read settings from their own environment, fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from learningday.settings import get_settings


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings re-read after the test changes the environment through the returned monkeypatch."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()
