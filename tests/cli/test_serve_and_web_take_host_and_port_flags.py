"""`serve --host --port --temporal-port --temporal-ui-port` listens where it is told and prints
(and links to) that address; `web --port --temporal-port` joins the same Temporal server."""

from __future__ import annotations

import signal
from pathlib import Path

from sqlalchemy import Engine

from learningday.temporal.devserver import free_port, port_is_open
from tests.cli.operator import answers, clean_up, service_env, start
from tests.waiting import wait_until


def test_serve_and_web_listen_on_the_ports_of_their_flags(tmp_path: Path, engine: Engine) -> None:
    env = service_env(tmp_path)  # the flags must win over these settings
    web, temporal, ui, second_web = free_port(), free_port(), free_port(), free_port()
    serve = start(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(web),
        "--temporal-port",
        str(temporal),
        "--temporal-ui-port",
        str(ui),
        env=env,
    )
    front = None
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{web}/healthz"), 60, "serve on its --port")
        assert port_is_open("127.0.0.1", temporal) and port_is_open("127.0.0.1", ui)
        front = start("web", "--port", str(second_web), "--temporal-port", str(temporal), env=env)
        wait_until(lambda: answers(f"http://127.0.0.1:{second_web}/readyz"), 60, "web ready on its --port")
        front.send_signal(signal.SIGTERM)
        front.communicate(timeout=60)
        assert front.returncode == 0
        serve.send_signal(signal.SIGTERM)
        stdout, _ = serve.communicate(timeout=60)
    finally:
        if front is not None:
            clean_up(front, temporal)
        clean_up(serve, temporal)
    assert f"Learning Day on http://127.0.0.1:{web}" in stdout
    assert f"UI http://127.0.0.1:{ui}" in stdout
