"""Fixtures for the Google adapters' tests: the peer (no request may break the discovery
schema), a service-account key pointing at it, and the client's back-off waits recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.google import GooglePeer


@pytest.fixture
def peer() -> Iterator[GooglePeer]:
    with GooglePeer() as peer:
        yield peer
        assert peer.schema_errors == [], "a request did not match the shipped discovery schema"


@pytest.fixture
def key_file(tmp_path: Path, peer: GooglePeer) -> Path:
    return peer.write_key_file(tmp_path / "service-account.json")


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's retry back-off waits, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr("googleapiclient.http.time.sleep", waits.append)
    return waits
