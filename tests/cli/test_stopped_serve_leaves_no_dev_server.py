"""SIGINT and SIGTERM stop `serve` cleanly, its dev server with it; even SIGKILL, which no
process can handle, leaves no `temporal server start-dev` behind."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli.operator import answers, clean_up, dev_servers_on, service_env, start
from tests.waiting import wait_until


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_stopped_serve_leaves_no_dev_server(sig: signal.Signals, tmp_path: Path, engine: Engine) -> None:
    env = service_env(tmp_path)
    temporal_port = int(env["LEARNINGDAY_TEMPORAL_DEV_PORT"])
    process = start("serve", env=env)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{env['LEARNINGDAY_WEB_PORT']}/healthz"), 60, "serve up")
        assert dev_servers_on(temporal_port), "serve started its dev server"
        process.send_signal(sig)
        process.communicate(timeout=60)
        code = process.returncode
        wait_until(lambda: not dev_servers_on(temporal_port), 30, "the dev server gone")
    finally:
        clean_up(process, temporal_port)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
