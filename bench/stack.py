"""The pieces every benchmark stands on: a scratch data directory with a migrated SQLite database,
the Temporal dev server, the local Slack / Google / SMTP peers with a configurable latency, the
worker in a process of its own (so its CPU and memory are its own), and process meters.

Nothing here is a test: it builds the embedded default as `learningday serve` would, only on free
ports and in a temporary directory, and measures it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil
from temporalio.client import Client

from learningday import settings as settings_module
from learningday.db import engine as db_engine
from learningday.db import migrate
from learningday.settings import Settings, get_settings
from learningday.temporal.client import connect
from learningday.temporal.devserver import DevServer, free_port

REPO = Path(__file__).resolve().parent.parent


@dataclass
class ProcessMeter:
    """CPU seconds a process (and its children) used since `start()`, and its peak RSS."""

    pid: int
    _cpu_at_start: float = 0.0

    def _cpu(self) -> float:
        try:
            process = psutil.Process(self.pid)
            total = sum(process.cpu_times()[:2])
            for child in process.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += sum(child.cpu_times()[:2])
            return total
        except psutil.Error:
            return 0.0

    def start(self) -> ProcessMeter:
        self._cpu_at_start = self._cpu()
        return self

    def cpu_seconds(self) -> float:
        return self._cpu() - self._cpu_at_start

    def peak_rss_mb(self) -> float:
        """VmHWM (the kernel's high-water mark) on Linux, the current RSS elsewhere."""
        status = Path(f"/proc/{self.pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.pid).memory_info().rss / 2**20
        return 0.0


@dataclass
class Base:
    """A scratch data directory, its migrated database, the dev server and a client."""

    data_dir: Path
    database_url: str
    server: DevServer
    client: Client
    env: dict[str, str] = field(default_factory=dict)

    @property
    def server_meter(self) -> ProcessMeter:
        assert self.server._process is not None
        return ProcessMeter(self.server._process.pid)


def _use_env(env: dict[str, str]) -> None:
    os.environ.update(env)
    settings_module.get_settings.cache_clear()
    db_engine.get_engine.cache_clear()
    db_engine._sessionmaker.cache_clear()


@contextlib.asynccontextmanager
async def base_stack(keep: bool = False) -> AsyncIterator[Base]:
    """Migrated SQLite (WAL) + headless dev server (WAL pragmas) on free ports, in a temp dir."""
    tmp = tempfile.mkdtemp(prefix="learningday-bench-")
    data_dir = Path(tmp)
    url = f"sqlite:///{data_dir / 'learningday.db'}"
    port = free_port()
    env = {
        "LEARNINGDAY_DATA_DIR": str(data_dir),
        "LEARNINGDAY_DATABASE_URL": url,
        "LEARNINGDAY_SECRET_KEY": "bench-secret-key",
        "LEARNINGDAY_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "LEARNINGDAY_GRACEFUL_SHUTDOWN_SECONDS": "2",
        "LEARNINGDAY_LOG_LEVEL": "WARNING",
    }
    _use_env(env)
    migrate.upgrade(url)
    server = DevServer(db_file=data_dir / "temporal.db", port=port, ui_port=None, log_file=data_dir / "temporal.log")
    server.start()
    try:
        client = await connect(get_settings())
        yield Base(data_dir, url, server, client, env)
    finally:
        server.stop()
        if not keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"(kept {tmp})")


@dataclass
class WorkerProcess:
    """`python -m bench.worker MODE` with the given environment; measured from outside."""

    process: subprocess.Popen[str]
    meter: ProcessMeter

    def stop(self) -> tuple[float, float]:
        """(CPU seconds since the meter started, peak RSS in MB), then a graceful stop."""
        cpu, peak = self.meter.cpu_seconds(), self.meter.peak_rss_mb()
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return cpu, peak


def start_worker(mode: str, env: dict[str, str], timeout: float = 60.0) -> WorkerProcess:
    """Start the worker process and wait until it says it is polling."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.worker", mode],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() == "ready":
            _keep_draining(
                process.stdout, Path(env.get("LEARNINGDAY_DATA_DIR", tempfile.gettempdir())) / f"worker-{mode}.log"
            )
            return WorkerProcess(process, ProcessMeter(process.pid))
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the bench worker ({mode}) did not start; exit code {process.poll()}")


def _keep_draining(stdout: IO[str], log: Path) -> None:
    """Copy the worker's stdout to `log` for as long as it runs. Temporal's core logs its
    warnings to stdout (e.g. "Workflow task duration exceeded 5 seconds" under load): a pipe
    nobody reads fills after 64 KB and the next warning blocks the worker for good, which
    stalled a 2,000-learner run here."""

    def copy() -> None:
        with log.open("a") as sink:
            for line in stdout:
                sink.write(line)
                sink.flush()

    threading.Thread(target=copy, name="worker-stdout", daemon=True).start()


@contextlib.contextmanager
def worker_process(mode: str, env: dict[str, str]) -> Iterator[WorkerProcess]:
    """`start_worker`, stopped however the block ends (an orphan would skew the next run)."""
    worker = start_worker(mode, env)
    try:
        yield worker
    finally:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, default=str))
    return path


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t:` … `t[0]` is the elapsed wall time in seconds afterwards."""
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def settings_for(env: dict[str, str]) -> Settings:
    _use_env(env)
    return get_settings()


def finish(code: int = 0) -> None:
    """End without interpreter teardown: a process that opened a Temporal client can otherwise
    abort in CPython's finalisation (temporalio/sdk-python#300; see learningday.cli.main)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(main: object) -> None:
    code = 0
    try:
        asyncio.run(main)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - print it, then end without teardown (see finish)
        import traceback

        traceback.print_exc()
        code = 1
    finish(code)
