"""One writer at a time per process on SQLite, queued on a lock instead of SQLite's busy loop.

SQLite admits one write transaction at a time. A thread that finds the database locked sleeps in
SQLite's busy handler on a fixed schedule (1, 2, 5, 10 … up to 100 ms between tries) and is
never woken when the lock frees. With the worker's many activity threads writing at once (50
approval clicks in the benchmark) the waits grew to hundreds of milliseconds: a queue of writers
mostly asleep while the database sat idle. Here a thread takes a process-wide lock at its
transaction's first write (where SQLite would take its own) and gives it back when the
transaction ends, so the next writer starts the moment the previous one commits. Reads never
take it. Other processes (web and worker share the file) still meet in SQLite's busy handler.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

# Statements that never write; everything else (INSERT, UPDATE, DELETE, DDL, SAVEPOINT …) may.
_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN"})
_HOLDS = "learningday.sqlite_write_lock"
# As long as SQLite itself would wait for its lock (the engine's `timeout`) before giving up.
WAIT_SECONDS = 30.0


def queue_writers(engine: Engine) -> None:
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(_HOLDS) or _first_word(statement) in _READS:
            return
        if not lock.acquire(timeout=WAIT_SECONDS):
            raise OperationalError(statement, None, TimeoutError(f"no SQLite write slot in {WAIT_SECONDS:.0f} s"))
        conn.info[_HOLDS] = True

    def _release(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS, False):
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
