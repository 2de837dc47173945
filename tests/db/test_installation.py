"""The installation id is read through whatever the session is bound to: an engine (the
service's sessions) or one connection (a caller running its own transaction). Its cache is
keyed by the database URL, which a connection reaches through its engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from learningday.db.installation import forget_cached, installation_id


@pytest.fixture
def fresh_installation(engine: Engine) -> Iterator[None]:
    forget_cached()
    yield
    forget_cached()


def test_a_session_bound_to_one_connection_reads_the_same_installation_id(
    fresh_installation: None, engine: Engine
) -> None:
    with Session(engine) as session:
        made = installation_id(session)
        session.commit()
    forget_cached()

    with engine.connect() as connection, Session(bind=connection) as session:
        read = installation_id(session)

    assert read == made
