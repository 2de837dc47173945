"""A port someone else holds ends `serve` or `demo` within 5 s: one line naming the port and how
to change it, a non-zero exit code, no traceback and no dev server left behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli.operator import clean_up, dev_servers_on, port_taken, printed_lines, service_env, start

# which port is taken, the setting and the flag the message must name
PORTS = {
    "web": ("WEB_PORT", "--port"),
    "Temporal frontend": ("TEMPORAL_DEV_PORT", "--temporal-port"),
    "Temporal UI": ("TEMPORAL_DEV_UI_PORT", "--temporal-ui-port"),
}


@pytest.mark.parametrize("command", ["serve", "demo"])
@pytest.mark.parametrize("taken", list(PORTS))
def test_a_taken_port_ends_the_command_within_5_s_with_one_line(
    command: str, taken: str, tmp_path: Path, engine: Engine
) -> None:
    setting, flag = PORTS[taken]
    env = service_env(tmp_path)
    port, temporal_port = int(env[f"LEARNINGDAY_{setting}"]), int(env["LEARNINGDAY_TEMPORAL_DEV_PORT"])
    with port_taken(port):
        began = time.monotonic()
        process = start(command, env=env)
        try:
            stdout, stderr = process.communicate(timeout=10)
            elapsed, left_behind = time.monotonic() - began, dev_servers_on(temporal_port)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`learningday {command}` still running 10 s after its {taken} port {port} was found taken")
        finally:
            clean_up(process, temporal_port)

    assert process.returncode not in (0, None)
    assert elapsed < 5, f"took {elapsed:.1f} s"
    lines = printed_lines(stdout, stderr)
    assert len(lines) == 1, lines
    assert str(port) in lines[0] and f"LEARNINGDAY_{setting}" in lines[0] and flag in lines[0], lines[0]
    assert left_behind == []
