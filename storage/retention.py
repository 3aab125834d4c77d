"""Retention: raw results are kept `raw_retention_days` (default 90), rollups 400 days, the
answers of creates sent with an Idempotency-Key a day (storage/idempotency).

Pruning deletes in small batches, each its own short transaction, so the probe engine's writes
are never held up behind one long delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Table, delete, select, tuple_

from config.settings import get_settings
from storage.db import get_engine
from storage.idempotency import prune_idempotency_keys
from storage.models import CheckResult, RollupRow
from storage.report_models import ReportRun
from storage.status_numbers import forget_cached_past
from storage.tables import table_of

ROLLUP_RETENTION_DAYS = 400  # a year of daily bars and SLA months, plus a margin
BATCH_ROWS = 5000
RESULTS = table_of(CheckResult)
ROLLUPS = table_of(RollupRow)
REPORT_RUNS = table_of(ReportRun)


@dataclass(frozen=True, slots=True)
class Pruned:
    results: int
    rollups: int


def _delete_in_batches(
    table: Table, key_columns: list, time_column: Column, cutoff: datetime, batch: int
) -> int:
    removed = 0
    engine = get_engine()
    while True:
        with engine.begin() as connection:
            keys = connection.execute(
                select(*key_columns).where(time_column < cutoff).limit(batch)
            ).all()
            if not keys:
                return removed
            if len(key_columns) == 1:
                condition = key_columns[0].in_([k[0] for k in keys])
            else:
                condition = tuple_(*key_columns).in_([tuple(k) for k in keys])
            removed += connection.execute(delete(table).where(condition)).rowcount or 0


def prune(now: datetime | None = None, batch: int = BATCH_ROWS) -> Pruned:
    """Delete raw results older than the raw retention and rollups older than 400 days."""
    now = now or datetime.now(UTC)
    raw_cutoff = now - timedelta(days=get_settings().raw_retention_days)
    rollup_cutoff = now - timedelta(days=max(ROLLUP_RETENTION_DAYS,
                                             get_settings().raw_retention_days))
    results = _delete_in_batches(RESULTS, [RESULTS.c.id], RESULTS.c.checked_at, raw_cutoff, batch)
    # A rollup goes once its whole bucket is past the limit.
    rollups = _delete_in_batches(
        ROLLUPS, [ROLLUPS.c.monitor_id, ROLLUPS.c.period, ROLLUPS.c.bucket_start],
        ROLLUPS.c.bucket_end, rollup_cutoff, batch,
    )
    if rollups:
        forget_cached_past()  # kept status numbers may hold the rows just deleted
    # Scheduled reports made before the rollups' limit (their sends go with them): such a
    # period can never be due again (domain/report_schedule: at most one period late).
    _delete_in_batches(REPORT_RUNS, [REPORT_RUNS.c.id], REPORT_RUNS.c.created_at,
                       rollup_cutoff, batch)
    prune_idempotency_keys(now)
    return Pruned(results, rollups)
