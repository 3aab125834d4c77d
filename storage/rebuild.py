"""Rebuilding rollups from raw results (and the state changes they caused).

Raw results are kept for the raw-retention period only, so the rebuild covers whole buckets from
the first local midnight at or after the oldest retained result; older rollups stay as they are.
The rebuilt rows equal the ones `storage.recorder.record_batch` maintains as results arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection, delete, func, insert, select

from analytics.rollup import TimelinePoint
from analytics.rollup_folding import rebuild_rollups
from config.settings import get_settings
from domain.states import NEW_STATE
from storage.db import get_engine
from storage.models import CheckResult, Monitor, RollupRow, StateChange
from storage.status_numbers import forget_cached_past
from storage.tables import table_of, utc

RESULTS = table_of(CheckResult)
CHANGES = table_of(StateChange)
ROLLUPS = table_of(RollupRow)


def _timeline(connection: Connection, monitor_id: int, since: datetime) -> list[TimelinePoint]:
    before = connection.execute(
        select(CHANGES.c.to_state).where(CHANGES.c.monitor_id == monitor_id, CHANGES.c.at < since)
        .order_by(CHANGES.c.at.desc(), CHANGES.c.id.desc()).limit(1)
    ).scalar()
    changes = [(utc(at), state) for at, state in connection.execute(
        select(CHANGES.c.at, CHANGES.c.to_state)
        .where(CHANGES.c.monitor_id == monitor_id, CHANGES.c.at >= since)
        .order_by(CHANGES.c.at, CHANGES.c.id)
    )]
    points = [TimelinePoint(since, before or NEW_STATE)]
    state, position = before or NEW_STATE, 0
    for at, outcome, latency in connection.execute(
        select(RESULTS.c.checked_at, RESULTS.c.outcome, RESULTS.c.latency_ms)
        .where(RESULTS.c.monitor_id == monitor_id, RESULTS.c.checked_at >= since)
        .order_by(RESULTS.c.checked_at, RESULTS.c.id)
    ):
        at = utc(at)
        while position < len(changes) and changes[position][0] <= at:
            state = changes[position][1]
            position += 1
        points.append(TimelinePoint(at, state, outcome, latency))
    return points


def rebuild_monitor(connection: Connection, monitor_id: int) -> int:
    """Replace one monitor's rollups from its retained raw results; returns rows written."""
    zone = get_settings().zone
    oldest = connection.execute(
        select(func.min(RESULTS.c.checked_at)).where(RESULTS.c.monitor_id == monitor_id)
    ).scalar()
    if oldest is None:
        return 0
    oldest = utc(oldest)
    first_day = oldest.astimezone(zone).date()
    if _rollups_before(connection, monitor_id, oldest.replace(minute=0, second=0, microsecond=0)):
        # Raw results before `oldest` were pruned: keep the partial day, rebuild whole days.
        first_day += timedelta(days=1)
    since = datetime.combine(first_day, time(0), tzinfo=zone)
    points = _timeline(connection, monitor_id, since)
    table = rebuild_rollups(points, zone) if len(points) > 1 else {}
    # Day rows are labelled in the zone and hour rows in UTC (SQLite keeps wall times).
    for period, bound in (("day", since), ("hour", since.astimezone(UTC))):
        connection.execute(delete(ROLLUPS).where(
            ROLLUPS.c.monitor_id == monitor_id, ROLLUPS.c.period == period,
            ROLLUPS.c.bucket_start >= bound,
        ))
    rows = [{
        "monitor_id": monitor_id, "period": r.period, "bucket_start": r.bucket_start,
        "bucket_end": r.bucket_end, "up_s": r.up_s, "degraded_s": r.degraded_s,
        "down_s": r.down_s, "maintenance_s": r.maintenance_s, "checks": r.checks,
        "failures": r.failures, "histogram": r.histogram.to_bytes(),
        "min_ms": r.min_ms, "max_ms": r.max_ms,
    } for r in table.values()]
    if rows:
        connection.execute(insert(ROLLUPS), rows)
    return len(rows)


def _rollups_before(connection: Connection, monitor_id: int, hour: datetime) -> bool:
    return connection.execute(
        select(func.count()).select_from(ROLLUPS).where(
            ROLLUPS.c.monitor_id == monitor_id, ROLLUPS.c.period == "hour",
            ROLLUPS.c.bucket_start < hour,
        )
    ).scalar_one() > 0


def rebuild_all(monitor_ids: Sequence[int] | None = None) -> int:
    """Rebuild every (or the given) monitor's rollups, one transaction per monitor."""
    engine = get_engine()
    if monitor_ids is None:
        with engine.connect() as connection:
            monitor_ids = list(connection.execute(select(table_of(Monitor).c.id)).scalars())
    written = 0
    for monitor_id in monitor_ids:
        with engine.begin() as connection:
            written += rebuild_monitor(connection, monitor_id)
    forget_cached_past()  # kept status numbers were read from the rows just replaced
    return written
