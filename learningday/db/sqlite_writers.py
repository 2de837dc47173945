"""One writer at a time per process on SQLite, queued on a lock instead of SQLite's busy loop.

SQLite admits one write transaction at a time. A thread that finds the database locked sleeps in
SQLite's busy handler on a fixed schedule (1, 2, 5, 10 … up to 100 ms between tries) and is
never woken when the lock frees. With the worker's many activity threads writing at once (50
approval clicks in the benchmark) the waits grew to hundreds of milliseconds: a queue of writers
mostly asleep while the database sat idle. Here a thread takes a process-wide lock at its
transaction's first write (where SQLite would take its own) and gives it back when the
transaction ends, so the next writer starts the moment the previous one commits. Reads never
take it.

Across processes (`serve` beside a `learningday web`, or more worker processes) the same holds
with a lock file next to the database: the thread holding its process's lock then takes an
exclusive `flock` on it. Without it, writers of two processes met in the busy handler, and one
process's writers starved: database writes timed out after 30 s with two worker processes in
bench.burst. (The kernel frees an `flock` when its process dies, however it dies.)
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

# Statements that never write; everything else (INSERT, UPDATE, DELETE, DDL, SAVEPOINT …) may.
_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN"})
_HOLDS = "learningday.sqlite_write_lock"
# As long as SQLite itself would wait for its lock (the engine's `timeout`) before giving up.
WAIT_SECONDS = 30.0


def queue_writers(engine: Engine, lock_file: Path | None = None) -> None:
    """Queue the engine's writers on a lock: a thread lock, plus `lock_file` across processes."""
    lock = threading.Lock()
    across = _ProcessLock(lock_file) if lock_file is not None else None

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(_HOLDS) or _first_word(statement) in _READS:
            return
        deadline = time.monotonic() + WAIT_SECONDS
        if not lock.acquire(timeout=WAIT_SECONDS):
            raise OperationalError(statement, None, TimeoutError(f"no SQLite write slot in {WAIT_SECONDS:.0f} s"))
        if across is not None and not across.acquire(deadline):
            lock.release()
            raise OperationalError(statement, None, TimeoutError(
                f"no SQLite write slot in {WAIT_SECONDS:.0f} s: another process holds {across.path}"))  # fmt: skip
        conn.info[_HOLDS] = True

    def _release(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS, False):
            if across is not None:
                across.release()
            lock.release()

    @event.listens_for(engine, "commit")
    def _after_commit(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine, "rollback")
    def _after_rollback(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        # A connection handed back with its transaction still open (it is rolled back on the
        # way in) must not keep the slot.
        _release(record.info)


def _first_word(statement: str) -> str:
    words = statement.lstrip().split(None, 1)
    return words[0].upper() if words else ""


class _ProcessLock:
    """An exclusive `flock` on a file, taken by one thread of this process at a time (the caller
    holds the thread lock: an `flock` is shared by every thread using the same open file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, deadline: float) -> bool:
        """Wait for the lock until `deadline` (monotonic), polling: `flock` itself cannot time out."""
        fd, pause = self._file(), 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _file(self) -> int:
        # Opened once per process: a forked child must not share its parent's open file (and lock).
        if self._fd is None or self._pid != os.getpid():
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd
