"""Probe workers on one PostgreSQL database split the monitors and take over a dead one's."""

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from storage.ownership import MonitorClaims
from tests.pg import postgres_database  # noqa: F401  (fixture)

MONITORS = set(range(1, 11))


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[Engine]:  # noqa: F811
    engine = create_engine(postgres_database)
    yield engine
    engine.dispose()


def test_on_sqlite_every_monitor_is_ours() -> None:
    claims = MonitorClaims(create_engine("sqlite://"))
    assert claims.owned(MONITORS) == MONITORS


def test_two_workers_split_the_monitors_without_overlap(pg_engine: Engine) -> None:
    first, second = MonitorClaims(pg_engine), MonitorClaims(pg_engine)
    try:
        first.owned(MONITORS)  # alone, it takes everything
        second.owned(MONITORS)  # joins: takes what is free (nothing yet)
        mine = first.owned(MONITORS)  # sees two workers, gives back its surplus
        theirs = second.owned(MONITORS)
        assert len(mine) == 5 and len(theirs) == 5
        assert mine.isdisjoint(theirs) and mine | theirs == MONITORS
    finally:
        first.close()
        second.close()


def test_a_dead_workers_monitors_are_taken_over(pg_engine: Engine) -> None:
    survivor, doomed = MonitorClaims(pg_engine), MonitorClaims(pg_engine)
    try:
        doomed.owned(MONITORS)
        survivor.owned(MONITORS)
        doomed.owned(MONITORS)
        assert len(survivor.owned(MONITORS)) == 5
        doomed.close()  # its connection ends, as when the process dies
        assert survivor.owned(MONITORS) == MONITORS
    finally:
        survivor.close()


def test_removed_monitors_are_released(pg_engine: Engine) -> None:
    claims = MonitorClaims(pg_engine)
    try:
        assert claims.owned(MONITORS) == MONITORS
        assert claims.owned({1, 2}) == {1, 2}
        other = MonitorClaims(pg_engine)
        try:
            assert other.owned({3}) == {3}  # 3 was released, so another worker can take it
        finally:
            other.close()
    finally:
        claims.close()
