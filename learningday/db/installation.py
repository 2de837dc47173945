"""This installation's id: random, made once, kept in the database.

Message-IDs are derived from it (see activities/mail/message.py), so two installations, or one
reinstalled on a fresh database, never send different emails under the same Message-ID, while
a retry of one email still carries the same one.
"""

from __future__ import annotations

import secrets
import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from learningday.db.models import Installation

_ROW = 1
_lock = threading.Lock()
_cached: dict[str, str] = {}


def installation_id(session: Session) -> str:
    """The id stored in this session's database, created on first use (concurrency-safe)."""
    url = str(session.get_bind().engine.url)
    with _lock:
        if url in _cached:
            return _cached[url]
    row = session.get(Installation, _ROW)
    if row is None:
        try:
            with session.begin_nested():
                session.add(Installation(id=_ROW, install_id=secrets.token_hex(16)))
        except IntegrityError:
            pass  # another process made it first: read theirs
        row = session.get(Installation, _ROW)
        assert row is not None
    with _lock:
        _cached[url] = row.install_id
    return row.install_id


def forget_cached() -> None:
    """Tests empty the tables between tests: forget the id read before."""
    with _lock:
        _cached.clear()
