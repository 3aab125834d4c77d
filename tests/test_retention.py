"""Retention removes raw results past their limit and rollups past 400 days, nothing newer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from composition.cli import main
from domain.result import ProbeResult
from storage.db import get_engine
from storage.models import CheckResult, RollupRow
from storage.retention import prune
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import new_monitor, record

pytestmark = pytest.mark.usefixtures("backend")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def count(table, column, before: datetime) -> int:  # type: ignore[no-untyped-def]
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
    results_table, rollups = CheckResult.__table__, RollupRow.__table__
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
    main(["prune"])
    assert "pruned 0 raw results and 0 rollups" in capsys.readouterr().out
