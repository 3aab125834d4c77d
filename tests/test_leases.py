"""A lease is held by at most one holder at a time, and is free again once its holder lets go:
by releasing it, or (on PostgreSQL) by its session ending."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage.leases import Lease, _lock_key
from tests.pg import postgres_database  # noqa: F401  (fixture)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'leases.db'}")
    yield engine
    engine.dispose()


def test_on_sqlite_one_of_two_holds_and_release_hands_it_over(sqlite_engine: Engine) -> None:
    first, second = Lease(sqlite_engine, "job"), Lease(sqlite_engine, "job")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.try_acquire(), "a holder keeps its lease"
    assert (first.held, second.held) == (True, False)
    first.release()
    assert not first.held
    assert second.try_acquire()
    assert not first.try_acquire()


def test_on_sqlite_leases_of_other_names_do_not_meet(sqlite_engine: Engine) -> None:
    assert Lease(sqlite_engine, "job").try_acquire()
    assert Lease(sqlite_engine, "other job").try_acquire()


@pytest.fixture
def postgres_engines(postgres_database: str) -> Iterator[tuple[Engine, Engine]]:  # noqa: F811
    # Two engines: as two processes, each with a pool of its own.
    engines = [create_engine(postgres_database, pool_size=2) for _ in range(2)]
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()


def advisory_locks(engine: Engine, name: str) -> int:
    key = _lock_key(name)
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = CAST(:key AS bigint) "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ), {"key": key}).scalar_one()


@pytest.mark.postgres
def test_on_postgres_one_of_two_holds_and_release_hands_it_over(
    postgres_engines: tuple[Engine, Engine],
) -> None:
    one, other = postgres_engines
    first, second = Lease(one, "job"), Lease(other, "job")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.try_acquire(), "a holder keeps its lease"
    assert advisory_locks(other, "job") == 1
    # The holder's session is out of its engine's pool: it takes no slot there.
    assert one.pool.checkedout() == 0  # type: ignore[attr-defined]
    first.release()
    assert advisory_locks(other, "job") == 0, "released, the lock is gone from the server"
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()


@pytest.mark.postgres
def test_on_postgres_a_session_that_ends_frees_the_lease(
    postgres_engines: tuple[Engine, Engine],
) -> None:
    one, other = postgres_engines
    first, second = Lease(one, "job"), Lease(other, "job")
    assert first.try_acquire()
    assert not second.try_acquire()
    # As when the holding process dies or the network drops its connection.
    with other.connect() as connection:
        ended = connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND ((classid::bigint << 32) | objid::bigint) = CAST(:key AS bigint)"
        ), {"key": _lock_key("job")}).scalars().all()
    assert ended == [True]
    # pg_terminate_backend only signals the backend: its locks go when it has exited.
    deadline = time.monotonic() + 10
    while not second.try_acquire() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second.held
    # The first holder notices its session is gone and does not claim it still holds.
    assert not first.try_acquire()
    assert not first.held
    second.release()
    assert first.try_acquire()
    first.release()
