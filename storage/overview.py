"""The overview's numbers for every monitor, in a fixed number of statements.

One refresh reads the monitors with their current state, the status read model
(storage/status_numbers: uptime over 24 hours and 30 days, mostly kept in memory) and the hourly
rollup rows of the hours still being written (the current one, and the previous one for a few
minutes past the hour); never a query per monitor.

p95 over 24 hours and the sparkline come from the hourly histograms of the last 24 clock hours:
the sparkline is each hour's p95, the 24-hour figure merges the hours (the first one counts
whole, as for the status page's 30-day figure). Settled hours are read once per clock hour and
kept in memory; a rebuild or prune of old rollups is seen when the hour moves on.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from analytics.histogram_blobs import merge_serialized
from analytics.histogram_dense import DenseHistogram, HistogramBlock, decode_dense
from domain.certificates import days_left_if_known
from domain.overview import OverviewRow, in_attention_order
from domain.schedule_lag import next_check_due, seconds_late
from domain.states import STATES, effective_state
from storage.certificates import certificate_expiries
from storage.db import get_engine, read_connection
from storage.models import CheckResult, Incident, as_utc
from storage.status_numbers import uptime_read_model
from storage.tables import table_of
from storage.window_basics import MONITORS, ROLLUPS, _now, among
from storage.window_basics import STATES as MONITOR_STATES

RESULTS = table_of(CheckResult)
INCIDENTS = table_of(Incident)
_WITH_STATE = MONITORS.outerjoin(MONITOR_STATES, MONITOR_STATES.c.monitor_id == MONITORS.c.id)

HOURS = 24
P95 = 0.95
# Results of an hour may still be written for a little while after it ends (batched writes, a
# check that started before the hour turned): until then the hour is read on every refresh.
SETTLING = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class OverviewTiles:
    """The counts above the table."""

    states: dict[str, int]  # effective state -> monitors in it (every state present, maybe 0)
    open_incidents: int
    unacknowledged_incidents: int
    checks_last_minute: int
    behind_schedule_s: float  # how far past its next due check the most overdue monitor is


@dataclass(frozen=True, slots=True)
class _Settled:
    """One monitor's settled hours of the 24: merged, and each hour's p95."""

    merged: DenseHistogram | None
    line: tuple[float | None, ...]


_lock = threading.Lock()
_settled_key: tuple | None = None
_settled: dict[int, _Settled] = {}
_blocks: dict[tuple[int, ...], HistogramBlock] = {}
_KEPT_BLOCKS = 4


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _monitor_rows(connection: Connection) -> list:
    return list(connection.execute(
        select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.name, MONITORS.c.url,
               MONITORS.c.public, MONITORS.c.paused, MONITORS.c.group_name, MONITORS.c.tags,
               MONITOR_STATES.c.state, MONITOR_STATES.c.reason, MONITOR_STATES.c.last_check_at,
               MONITOR_STATES.c.last_latency_ms)
        .select_from(_WITH_STATE)))


def _hour_blobs(connection: Connection, ids: list[int], first: datetime,
                end: datetime) -> dict[datetime, dict[int, bytes]]:
    """hour start -> monitor -> stored histogram, for hours in [first, end)."""
    blobs: dict[datetime, dict[int, bytes]] = defaultdict(dict)
    if first >= end:
        return blobs
    for monitor_id, start, blob in connection.execute(
        select(ROLLUPS.c.monitor_id, ROLLUPS.c.bucket_start, ROLLUPS.c.histogram).where(
            ROLLUPS.c.period == "hour", ROLLUPS.c.bucket_start >= first,
            ROLLUPS.c.bucket_start < end, ROLLUPS.c.min_ms.is_not(None),
            among(connection, ROLLUPS.c.monitor_id, ids))
    ):
        blobs[as_utc(start) or start][monitor_id] = bytes(blob)
    return blobs


def _decoded(ids: list[int], starts: list[datetime],
             blobs: dict[datetime, dict[int, bytes]]) -> list[list[DenseHistogram | None]]:
    """Per hour, every monitor's histogram (None: no successful check)."""
    return [[decode_dense(hour[m]) if m in hour else None for m in ids]
            for hour in (blobs.get(start, {}) for start in starts)]


def _hour_lines(hours: list[list[DenseHistogram | None]],
                monitors: int) -> list[list[float | None]]:
    """Each monitor's p95 in each hour, every hour's monitors at once."""
    lines: list[list[float | None]] = [[] for _ in range(monitors)]
    for hour in hours:
        for line, p95 in zip(lines, HistogramBlock.of(hour).quantile(P95), strict=True):
            line.append(p95)
    return lines


def _settled_hours(connection: Connection, ids: list[int],
                   starts: list[datetime]) -> dict[int, _Settled]:
    """The settled hours of each monitor, read once per clock hour."""
    global _settled_key
    key = (str(get_engine().url), tuple(starts))
    with _lock:
        if _settled_key != key:
            _settled_key = key
            _settled.clear()
            _blocks.clear()
        known = {m: _settled[m] for m in ids if m in _settled}
    missing = [m for m in ids if m not in known]
    if missing and starts:
        blobs = _hour_blobs(connection, missing, starts[0], starts[-1] + timedelta(hours=1))
        lines = _hour_lines(_decoded(missing, starts, blobs), len(missing))
        fresh = {
            m: _Settled(DenseHistogram.of(merge_serialized(
                hour[m] for hour in blobs.values() if m in hour)), tuple(line))
            for m, line in zip(missing, lines, strict=True)
        }
        known.update(fresh)
        with _lock:
            if _settled_key == key:
                _settled.update(fresh)
    elif missing:
        known.update({m: _Settled(None, ()) for m in missing})
    return known


def _settled_block(ids: list[int], settled: dict[int, _Settled]) -> HistogramBlock:
    key = tuple(ids)
    with _lock:
        block = _blocks.get(key)
    if block is None:
        block = HistogramBlock.of([settled[m].merged for m in ids])
        with _lock:
            if len(_blocks) >= _KEPT_BLOCKS:
                _blocks.clear()
            _blocks[key] = block
    return block


def _latency(connection: Connection, ids: list[int], now: datetime
             ) -> tuple[list[float | None], list[tuple[float | None, ...]]]:
    """Every monitor's p95 over the last 24 clock hours, and its p95 in each of them."""
    last = _hour_floor(now)
    starts = [last - timedelta(hours=HOURS - 1 - n) for n in range(HOURS)]
    open_hours = [s for s in starts if now < s + timedelta(hours=1) + SETTLING]
    settled = _settled_hours(connection, ids, [s for s in starts if s not in open_hours])
    hours = _decoded(ids, open_hours, _hour_blobs(connection, ids, open_hours[0],
                                                  last + timedelta(hours=1)))
    block = _settled_block(ids, settled)
    for hour in hours:
        block = block.plus(hour)
    p95s = block.quantile(P95)
    open_lines = _hour_lines(hours, len(ids))
    lines = [(*settled[m].line, *tail) for m, tail in zip(ids, open_lines, strict=True)]
    return p95s, lines


def overview_rows(now: datetime | None = None) -> list[OverviewRow]:
    """Every monitor's overview row, down first, then degraded, then the rest by name."""
    now = _now(now)
    with read_connection() as connection:
        monitors = _monitor_rows(connection)
        ids = [m.id for m in monitors]
        p95s, lines = _latency(connection, ids, now) if ids else ([], [])
        expiries = certificate_expiries(connection, ids)
    uptimes = uptime_read_model(ids, now)
    rows = []
    for m, p95, line in zip(monitors, p95s, lines, strict=True):
        uptime = uptimes.get(m.id, {})
        rows.append(OverviewRow(
            slug=m.slug, name=m.name, state=effective_state(m.paused, m.state),
            group=m.group_name, tags=tuple(m.tags or ()), url=m.url, public=m.public,
            uptime_24h=uptime.get("24h"), uptime_30d=uptime.get("30d"), p95_24h_ms=p95,
            last_latency_ms=m.last_latency_ms,
            cert_days_left=days_left_if_known(expiries.get(m.id), now),
            last_check_at=as_utc(m.last_check_at), reason=m.reason, latency_24h=line,
        ))
    return in_attention_order(rows)


def overview_tiles(now: datetime | None = None) -> OverviewTiles:
    """How many monitors are in each state, the open incidents, the engine's pace."""
    now = _now(now)
    counts: dict[str, int] = defaultdict(int)
    behind = 0.0
    with read_connection() as connection:
        monitors = list(connection.execute(
            select(MONITORS.c.id, MONITORS.c.paused, MONITORS.c.kind, MONITORS.c.interval,
                   MONITORS.c.timeout, MONITOR_STATES.c.state, MONITOR_STATES.c.last_check_at)
            .select_from(_WITH_STATE)))
        open_count, unacknowledged = connection.execute(
            select(func.count(), func.count().filter(INCIDENTS.c.acknowledged_at.is_(None)))
            .where(INCIDENTS.c.resolved_at.is_(None))).one()
        ids = [m.id for m in monitors]
        checks = connection.execute(
            select(func.count()).select_from(RESULTS).where(
                among(connection, RESULTS.c.monitor_id, ids),
                RESULTS.c.checked_at >= now - timedelta(minutes=1))).scalar_one() if ids else 0
    for m in monitors:
        counts[effective_state(m.paused, m.state)] += 1
        due = next_check_due(as_utc(m.last_check_at), m.interval, m.timeout,
                             paused=m.paused, kind=m.kind)
        behind = max(behind, seconds_late(due, now))
    return OverviewTiles(
        states={state: counts.get(state, 0) for state in STATES},
        open_incidents=int(open_count), unacknowledged_incidents=int(unacknowledged),
        checks_last_minute=int(checks), behind_schedule_s=behind,
    )
