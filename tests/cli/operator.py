"""Running `learningday` as an operator does (the installed console script, in its own process
group) and finding the `temporal server start-dev` processes it leaves behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from learningday.temporal.devserver import free_port

LEARNINGDAY = str(Path(sys.executable).parent / "learningday")


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The test's environment with a private data directory and free ports for everything."""
    env = os.environ | {
        "LEARNINGDAY_DATA_DIR": str(data_dir),
        "LEARNINGDAY_WEB_PORT": str(free_port()),
        "LEARNINGDAY_TEMPORAL_DEV_PORT": str(free_port()),
        "LEARNINGDAY_TEMPORAL_DEV_UI_PORT": str(free_port()),
    }
    env.pop("LEARNINGDAY_PUBLIC_BASE_URL", None)
    env.pop("LEARNINGDAY_TEMPORAL_ADDRESS", None)
    return env | {f"LEARNINGDAY_{name.upper()}": value for name, value in settings.items()}


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [LEARNINGDAY, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def dev_servers_on(port: int) -> list[int]:
    """Pids of live `temporal server start-dev --port PORT` processes (zombies have no cmdline)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in args and b"--port" in args and args[args.index(b"--port") + 1] == str(port).encode():
            pids.append(int(entry.name))
    return pids


def clean_up(process: subprocess.Popen[str], temporal_port: int) -> None:
    """Whatever a failing test left running: the command's group, then any dev server of its."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid in dev_servers_on(temporal_port):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def port_taken(port: int) -> Iterator[None]:
    """Another program listening on 127.0.0.1:PORT."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield


def printed_lines(stdout: str, stderr: str) -> list[str]:
    return [line for line in (stdout + stderr).splitlines() if line.strip()]


def answers(url: str) -> bool:
    """The URL answers 200."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False
