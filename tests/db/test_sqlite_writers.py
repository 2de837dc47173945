"""On SQLite, writers in one process queue on a lock that every way out of a transaction frees."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from learningday.db.engine import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
    return engine


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM counter")).scalar_one()


def test_forty_threads_writing_at_once_all_commit(engine: Engine) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for _ in range(5):
                with engine.begin() as connection:
                    connection.execute(text("SELECT count(*) FROM counter"))
                    connection.execute(text("INSERT INTO counter (n) VALUES (:n)"), {"n": n})
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(engine) == 200


def test_a_rolled_back_or_abandoned_write_frees_the_lock(engine: Engine) -> None:
    with pytest.raises(RuntimeError):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO counter (n) VALUES (1)"))
            raise RuntimeError("the activity failed mid-transaction")
    abandoned = engine.connect()
    abandoned.execute(text("INSERT INTO counter (n) VALUES (2)"))
    abandoned.close()  # returned to the pool with the transaction open: rolled back

    done = threading.Event()

    def write_from_another_thread() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO counter (n) VALUES (3)"))
        done.set()

    threading.Thread(target=write_from_another_thread).start()
    assert done.wait(timeout=5), "a writer was left waiting on a lock nobody holds"
    assert count(engine) == 1


def test_reads_do_not_wait_for_a_writer(engine: Engine) -> None:
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO counter (n) VALUES (1)"))
        result: list[int] = []
        reader = threading.Thread(target=lambda: result.append(count(engine)))
        reader.start()
        reader.join(timeout=5)
        assert result == [0]  # WAL: the reader sees the last commit, without waiting
