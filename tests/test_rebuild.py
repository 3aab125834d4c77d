"""Rollups rebuilt from raw results equal the ones maintained as results arrived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.decide import Thresholds
from domain.result import ProbeResult
from storage.db import get_engine
from storage.models import CheckResult, RollupRow, as_utc
from storage.rebuild import rebuild_all
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import new_monitor, record

pytestmark = pytest.mark.usefixtures("backend")


def rollups(monitor_id: int) -> dict:
    table = RollupRow.__table__
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(table).where(table.c.monitor_id == monitor_id)
        ).mappings().all()
    return {
        (r["period"], as_utc(r["bucket_start"])): (
            r["up_s"], r["degraded_s"], r["down_s"], r["maintenance_s"], r["checks"],
            r["failures"], bytes(r["histogram"]), r["min_ms"], r["max_ms"])
        for r in rows
    }


step = st.tuples(
    st.integers(min_value=1, max_value=20000),
    st.sampled_from(["up", "up", "degraded", "down"]),
    st.floats(min_value=0, max_value=3000, allow_nan=False),
)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=50), batch=st.integers(1, 10),
       failures_before_down=st.integers(1, 3))
def test_rebuilt_rollups_equal_incremental_ones(steps, batch, failures_before_down) -> None:
    monitor_id = new_monitor(f"m{datetime.now().timestamp()}")
    at, results = datetime(2026, 2, 27, 23, 58, tzinfo=UTC), []
    for gap, outcome, latency in steps:
        at += timedelta(seconds=gap)
        results.append(ProbeResult(outcome, at, latency_ms=latency))
    record(monitor_id, results, batch=batch, limits=Thresholds(failures_before_down, 1))
    incremental = rollups(monitor_id)
    rebuild_all([monitor_id])
    assert rollups(monitor_id) == incremental


def test_rebuild_keeps_rollups_older_than_the_raw_results() -> None:
    monitor_id = new_monitor("Web")
    start = datetime(2026, 3, 1, 20, tzinfo=UTC)
    record(monitor_id, [ProbeResult("up", start + timedelta(minutes=i), latency_ms=5.0)
                        for i in range(24 * 60)], batch=500)
    incremental = rollups(monitor_id)
    table = RollupRow.__table__
    with get_engine().begin() as connection:  # as if retention had pruned 2 hours
        results = CheckResult.__table__
        connection.execute(results.delete().where(
            results.c.checked_at < start + timedelta(hours=2)))
        connection.execute(table.update().where(table.c.period == "day").values(checks=0))
    rebuild_all([monitor_id])
    after = rollups(monitor_id)
    assert after[("day", datetime(2026, 3, 1, tzinfo=UTC))][4] == 0  # partial day: kept as is
    # The whole day after it is rebuilt from raw results (its zeroed count is restored).
    assert after[("day", datetime(2026, 3, 2, tzinfo=UTC))] == incremental[
        ("day", datetime(2026, 3, 2, tzinfo=UTC))]
    assert {k: v for k, v in after.items() if k[0] == "hour"} == {
        k: v for k, v in incremental.items() if k[0] == "hour"}
