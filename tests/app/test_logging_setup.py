"""Logging never carries the SDK's dumps of activity payloads (people's names, emails, text)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from learningday.logging_setup import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root, sdk = logging.getLogger(), logging.getLogger("temporalio")
    handlers, levels = list(root.handlers), (root.level, sdk.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    sdk.setLevel(levels[1])


def test_debug_logging_keeps_the_sdks_payload_dumps_out(restored_logging: None) -> None:
    configure_logging("json", "DEBUG")

    # "Completing activity with completion: …" carries the activity's result at DEBUG.
    assert not logging.getLogger("temporalio.worker._activity").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("temporalio.worker._activity").isEnabledFor(logging.INFO)
    assert logging.getLogger("activities.calendar.google").isEnabledFor(logging.DEBUG)


def test_a_quieter_level_still_applies_to_the_sdk(restored_logging: None) -> None:
    configure_logging("text", "WARNING")

    assert not logging.getLogger("temporalio.worker._activity").isEnabledFor(logging.INFO)
