"""Retention removes raw results past their limit and rollups past 400 days, nothing newer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Table, func, select

from composition.cli import main
from composition.services import RetentionPruner
from domain.result import ProbeResult
from storage.db import get_engine
from storage.retention import RESULTS, ROLLUPS, prune
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.server_process import wait_until
from tests.stats_support import new_monitor, record

pytestmark = pytest.mark.usefixtures("backend")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def count(table: Table, column: Column, before: datetime) -> int:
    with get_engine().connect() as connection:
        return connection.execute(
            select(func.count()).select_from(table).where(column < before)
        ).scalar_one()


def test_prune_removes_only_what_is_older_than_its_limit() -> None:
    monitor_id = new_monitor("Web")
    # One result every 12 hours for 500 days.
    results = [ProbeResult("up", NOW - timedelta(hours=12 * i), latency_ms=10.0)
               for i in range(1000, 0, -1)]
    record(monitor_id, results, batch=500)
    results_table, rollups = RESULTS, ROLLUPS
    raw_limit, rollup_limit = NOW - timedelta(days=90), NOW - timedelta(days=400)
    assert count(results_table, results_table.c.checked_at, raw_limit) > 0
    kept_results = count(results_table, results_table.c.checked_at, NOW + timedelta(days=1)) - \
        count(results_table, results_table.c.checked_at, raw_limit)
    pruned = prune(now=NOW, batch=97)
    assert count(results_table, results_table.c.checked_at, raw_limit) == 0
    assert count(results_table, results_table.c.checked_at, NOW + timedelta(days=1)) == \
        kept_results
    assert count(rollups, rollups.c.bucket_end, rollup_limit) == 0
    assert count(rollups, rollups.c.bucket_start, raw_limit) > 0  # rollups outlive raw rows
    assert pruned.results == 1000 - kept_results and pruned.rollups > 0


def test_prune_command(capsys: pytest.CaptureFixture[str]) -> None:
    monitor_id = new_monitor("Web")
    now = datetime.now(UTC)
    record(monitor_id, [ProbeResult("up", now - timedelta(days=d), latency_ms=10.0)
                        for d in (500, 100, 1)])
    raw_limit, rollup_limit = now - timedelta(days=90), now - timedelta(days=400)
    old_rollups = count(ROLLUPS, ROLLUPS.c.bucket_end, rollup_limit)
    assert old_rollups > 0
    main(["prune"])
    assert f"pruned 2 raw results and {old_rollups} rollups" in capsys.readouterr().out
    assert count(RESULTS, RESULTS.c.checked_at, raw_limit) == 0
    assert count(RESULTS, RESULTS.c.checked_at, now) == 1  # the recent one stays
    assert count(ROLLUPS, ROLLUPS.c.bucket_end, rollup_limit) == 0
    assert count(ROLLUPS, ROLLUPS.c.bucket_end, now + timedelta(days=1)) > 0


def pruning_threads(caplog: pytest.LogCaptureFixture) -> set[int | None]:
    return {r.thread for r in caplog.records if r.getMessage().startswith("retention: pruned")}


def test_one_of_two_pruners_prunes_and_the_other_takes_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="upwatch")
    monitor_id = new_monitor("Web")
    now = datetime.now(UTC)
    record(monitor_id, [ProbeResult("up", now - timedelta(days=100), latency_ms=10.0),
                        ProbeResult("up", now - timedelta(days=1), latency_ms=10.0)])
    results_table = RESULTS
    raw_limit = now - timedelta(days=90)
    # As in two processes: each pruner asks for the lease on a connection or file of its own.
    pruners = [RetentionPruner(get_engine(), every_s=0.1) for _ in range(2)]
    try:
        for pruner in pruners:
            pruner.start()
        wait_until(lambda: count(results_table, results_table.c.checked_at, raw_limit) == 0,
                   10, "the old result pruned")
        wait_until(lambda: len([r for r in caplog.records if "pruned" in r.getMessage()]) >= 5,
                   10, "more pruning rounds")
        threads = pruning_threads(caplog)
        assert len(threads) == 1, "only the lease holder prunes"
        holder = next(p for p in pruners if p._thread.ident in threads)
        holder.stop()
        assert not holder._thread.is_alive()
        other = next(p for p in pruners if p is not holder)
        wait_until(lambda: other._thread.ident in pruning_threads(caplog), 10,
                   "the other pruner taking the lease over")
        assert count(results_table, results_table.c.checked_at, now + timedelta(days=1)) == 1
    finally:
        for pruner in pruners:
            pruner.stop()
