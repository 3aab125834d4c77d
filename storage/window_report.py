"""One monitor over any [start, end), for SLA reports and date ranges.

Time comes from rollups (storage/rollup_reads.py) and is exact to the second. Checks, failures
and p50/p95/p99 read raw results for the window's sub-hour edges while raw results are retained,
and whole hours around the edge after that; a window's days and whole hours come with their
histograms in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Integer, and_, literal, or_, select

from analytics.histogram_blobs import merge_serialized
from analytics.rollup import SUCCESS_OUTCOMES
from analytics.rollup_windows import plan_window
from analytics.uptime import epoch_seconds, from_epoch
from config.settings import get_settings
from storage.db import read_connection
from storage.models import CheckResult
from storage.rollup_reads import (
    _STATE_COUNTS,
    SPANS,
    Span,
    _add_tail,
    _edge_seconds,
    _edge_selects,
    _edges,
    _plan_spans,
    _span_selects,
    _union,
)
from storage.tables import table_of
from storage.window_basics import (
    QUANTILES,
    ROLLUPS,
    Totals,
    _current,
    _effective_end,
    _now,
    _uptime,
    _zero,
)

RESULTS = table_of(CheckResult)


@dataclass(frozen=True, slots=True)
class WindowReport:
    """A monitor over [start, end): for SLA reports and date ranges."""

    monitor_id: int
    start: datetime
    end: datetime
    up_s: int
    degraded_s: int
    down_s: int
    maintenance_s: int
    checks: int
    failures: int
    p50: float | None
    p95: float | None
    p99: float | None

    @property
    def observed_s(self) -> int:
        return self.up_s + self.degraded_s + self.down_s

    @property
    def uptime(self) -> float | None:
        return _uptime((self.up_s, self.degraded_s, self.down_s))

    @property
    def degraded_ratio(self) -> float | None:
        observed = self.observed_s
        return self.degraded_s / observed if observed else None

    @property
    def downtime_minutes(self) -> float:
        return self.down_s / 60


def _raw_window(
    connection: Connection, monitor_id: int, pieces: list[tuple[int, int, int]]
) -> tuple[list[float], int, int]:
    """Latencies of successful checks, checks and failures in sub-hour pieces (raw results)."""
    latencies: list[float] = []
    checks = failures = 0
    if not pieces:
        return latencies, checks, failures
    rows = connection.execute(
        select(RESULTS.c.outcome, RESULTS.c.latency_ms)
        .where(RESULTS.c.monitor_id == monitor_id, or_(*(
            and_(RESULTS.c.checked_at >= from_epoch(low), RESULTS.c.checked_at < from_epoch(high))
            for _, low, high in pieces)))
    ).all()
    for outcome, latency in rows:
        checks += 1
        failures += outcome == "down"
        if outcome in SUCCESS_OUTCOMES and latency is not None:
            latencies.append(latency)
    return latencies, checks, failures


@dataclass(slots=True)
class _MonitorRollups:
    """One monitor's rollups for a window: summed spans, and its edge hours row by row."""

    totals: Totals
    blobs: list[bytes]
    edge_rows: dict[tuple[int, int], tuple[int, ...]]
    edge_blobs: dict[int, bytes]


def _monitor_rollups(
    connection: Connection, monitor_id: int, spans: Sequence[Span], edge_hours: set[int]
) -> _MonitorRollups:
    """Everything `window_report` reads from rollups, in one statement: a window's days and
    whole hours are summed here rather than in SQL because their histograms come along."""
    read = _MonitorRollups(_zero(), [], {}, {})
    columns = [*_STATE_COUNTS, ROLLUPS.c.min_ms, ROLLUPS.c.histogram]
    mine = ROLLUPS.c.monitor_id == monitor_id
    parts = _span_selects([literal(SPANS, Integer), *columns], spans, mine)
    parts += _edge_selects(columns, edge_hours, mine)
    if not parts:
        return read
    totals = read.totals
    for hour, *values, min_ms, blob in connection.execute(_union(parts)).all():
        if hour != SPANS:
            read.edge_rows[(monitor_id, hour)] = tuple(values)
            if min_ms is not None:
                read.edge_blobs[hour] = bytes(blob)
            continue
        for i, value in enumerate(values):
            totals[i] += value
        if min_ms is not None:
            read.blobs.append(bytes(blob))
    return read


def raw_retained_since(now: datetime) -> datetime:
    """Raw results from here on are kept (storage/retention.py prunes what is older)."""
    return now - timedelta(days=get_settings().raw_retention_days)


def window_report(
    monitor_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> WindowReport:
    """Uptime, downtime, checks and p50/p95/p99 of one monitor over [start, end).

    Time is exact to the second. Percentiles, checks and failures read raw results for sub-hour
    edges while raw results are retained, whole hours around the edge after that.
    """
    now = _now(now)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError("the end of a window must come after its start")
    zone = get_settings().zone
    ids = [monitor_id]
    with read_connection() as connection:
        current = _current(connection, ids)
        plan = plan_window(start, _effective_end(end, current, zone), zone)
        edges = _edges(plan, end)
        retained = epoch_seconds(raw_retained_since(now))
        raw_edges = [e for e in edges if e[1] >= retained]
        whole_hours = {e[0] for e in edges if e not in raw_edges}
        read = _monitor_rollups(connection, monitor_id, _plan_spans(plan),
                                {hour for hour, _, _ in edges})
        totals = read.totals
        _edge_seconds(connection, ids, edges, current, {monitor_id: totals}, read.edge_rows)
        _add_tail(totals, current.get(monitor_id), start, end, now)
        latencies, raw_checks, raw_failures = _raw_window(connection, monitor_id, raw_edges)
    snapped = [read.edge_rows.get((monitor_id, hour)) for hour in whole_hours]
    blobs = read.blobs + [read.edge_blobs[h] for h in whole_hours if h in read.edge_blobs]
    histogram = merge_serialized(blobs)
    for latency in latencies:
        histogram.add(latency)
    p50, p95, p99 = histogram.quantiles(QUANTILES)
    return WindowReport(
        monitor_id, start, end, totals[0], totals[1], totals[2], totals[3],
        totals[4] + raw_checks + sum(row[4] for row in snapped if row),
        totals[5] + raw_failures + sum(row[5] for row in snapped if row), p50, p95, p99,
    )
