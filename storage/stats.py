"""Uptime, latency percentiles and daily bars over any window, for many monitors at once.

A window [start, end) is cut by `analytics.rollup.plan_window` into whole local days (daily
rollups), whole UTC hours (hourly rollups) and sub-hour edges, and each source is read with one
query for all monitors:

- days and hours are summed in SQL;
- a sub-hour edge is read from its hour's rollup when that hour held one state throughout (the
  common case), and otherwise exactly from the monitor's state changes;
- the time after a monitor's last result, up to now, counts in its current state (rollups count a
  state's time only when the next result arrives); a paused monitor's tail is not observed.

When no monitor has a result after `end` (any window ending now), the hour and day holding `end`
are read whole from their rollups: they hold nothing past `end` yet.

Uptime is thus exact to the second: it equals the brute-force computation over raw results and
state changes (see README, "Uptime and percentiles"). Latency percentiles come from merged
histograms (nearest rank, within 1% of the sample at that rank, see analytics/histogram.py);
rolling windows (`latency_by_window`) count the whole first hour of the window, `window_report`
reads raw results for its sub-hour edges while they are retained and whole hours after that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    String,
    and_,
    any_,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)

from analytics.histogram import LatencyHistogram
from analytics.histogram_blobs import merge_serialized
from analytics.rollup import SUCCESS_OUTCOMES
from analytics.rollup_windows import WindowPlan, plan_window
from analytics.uptime import COUNTED_STATES, HOUR_S, epoch_seconds, from_epoch, split_span
from config.settings import get_settings
from domain.states import effective_state
from storage.db import read_connection
from storage.models import CheckResult, Monitor, MonitorState, RollupRow, StateChange, as_utc
from storage.tables import table_of, utc

WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
}
QUANTILES = (0.5, 0.95, 0.99)
STATE_INDEX = {"up": 0, "degraded": 1, "down": 2, "maintenance": 3}

ROLLUPS = table_of(RollupRow)
MONITORS = table_of(Monitor)
STATES = table_of(MonitorState)
CHANGES = table_of(StateChange)
RESULTS = table_of(CheckResult)

# up, degraded, down, maintenance seconds, checks, failures
Totals = list[int]


def _zero() -> Totals:
    return [0, 0, 0, 0, 0, 0]


def window_length(name: str) -> timedelta:
    try:
        return WINDOWS[name]
    except KeyError:
        raise ValueError(f"unknown window {name!r}: use one of {', '.join(WINDOWS)}") from None


def _uptime(totals: Sequence[int]) -> float | None:
    observed = totals[0] + totals[1] + totals[2]
    return (totals[0] + totals[1]) / observed if observed else None


@dataclass(frozen=True, slots=True)
class DayBar:
    """One calendar day (in the configured zone) of a monitor, for the 90-day bar strip."""

    day: date
    uptime: float | None
    up_s: int
    degraded_s: int
    down_s: int
    maintenance_s: int
    observed_s: int
    checks: int

    @property
    def downtime_minutes(self) -> float:
        return self.down_s / 60


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


@dataclass(frozen=True, slots=True)
class _Current:
    """What rollups do not hold yet: the state since the last result (`tail_state`)."""

    tail_state: str
    last_check_at: datetime | None


def _current(connection: Connection, monitor_ids: Sequence[int]) -> dict[int, _Current]:
    rows = connection.execute(
        select(MONITORS.c.id, MONITORS.c.paused, STATES.c.state, STATES.c.last_check_at)
        .select_from(MONITORS.outerjoin(STATES, STATES.c.monitor_id == MONITORS.c.id))
        .where(among(connection, MONITORS.c.id, monitor_ids))
    ).all()
    return {
        monitor_id: _Current(effective_state(paused, state), as_utc(last_check_at))
        for monitor_id, paused, state, last_check_at in rows
    }


def among(connection: Connection, column: ColumnElement, ids: Sequence[int]) -> ColumnElement:
    """`column IN ids`. On PostgreSQL as `= ANY(array)`: one parameter to bind and send, not one
    per monitor, which cost more than the query itself for a thousand monitors."""
    if connection.dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _end_of_local_day(moment: datetime, zone: tzinfo) -> datetime:
    local_day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(local_day, time(0), tzinfo=zone)


def _effective_end(end: datetime, current: dict[int, _Current], zone: tzinfo) -> datetime:
    """Where rollups may be read up to: past `end` while nothing was recorded at or after `end`
    (a check made exactly at `end` is outside [start, end) but inside its hour's rollup)."""
    if all(c.last_check_at is None or c.last_check_at < end for c in current.values()):
        return _end_of_local_day(end, zone)
    return end


# A piece of a window read from rollups: (period, first bucket_start, end), end excluded.
Span = tuple[str, datetime, datetime]


def spans(period: str, ranges: Iterable[tuple[datetime, datetime]]) -> list[Span]:
    return [(period, low, high) for low, high in ranges]


def _span_selects(
    columns: Sequence[ColumnElement], spans: Sequence[Span], *where: ColumnElement[bool],
    group_by: ColumnElement | None = None,
) -> list[Select]:
    """One SELECT per span, each an indexed range, to be sent as one statement by `_union`."""
    parts = []
    for period, low, high in spans:
        part = select(*columns).where(*where, ROLLUPS.c.period == period,
                                      ROLLUPS.c.bucket_start >= low, ROLLUPS.c.bucket_start < high)
        parts.append(part if group_by is None else part.group_by(group_by))
    return parts


def _union(parts: Sequence[Select]) -> Select | CompoundSelect:
    """A UNION ALL of the parts. (An OR of the spans' ranges in one SELECT makes PostgreSQL
    bitmap-scan them together and recheck every row: 2.7x slower over 90 days of 1,000
    monitors.)"""
    return parts[0] if len(parts) == 1 else union_all(*parts)


# Rows of a union over spans and edge hours say where they come from: the edge hour (epoch
# seconds) of an edge row, or SPANS for rows of the spans.
SPANS = -1
_STATE_COUNTS = (ROLLUPS.c.up_s, ROLLUPS.c.degraded_s, ROLLUPS.c.down_s, ROLLUPS.c.maintenance_s,
                 ROLLUPS.c.checks, ROLLUPS.c.failures)


def _edge_selects(
    columns: Sequence[ColumnElement], hours: Iterable[int], *where: ColumnElement[bool]
) -> list[Select]:
    """One SELECT per edge hour, its rows marked with their hour (see SPANS)."""
    return [
        select(literal(hour, Integer), *columns).where(
            *where, ROLLUPS.c.period == "hour", ROLLUPS.c.bucket_start == from_epoch(hour))
        for hour in sorted(hours)
    ]


def _sum_rollups(
    connection: Connection, monitor_ids: Sequence[int], spans: Sequence[Span],
    into: dict[int, Totals], edge_hours: Iterable[int] = (),
) -> dict[tuple[int, int], tuple[int, ...]]:
    """Add each monitor's sums over the spans into `into`; in the same statement, read the
    rows of the edge hours, returned by (monitor, hour)."""
    mine = among(connection, ROLLUPS.c.monitor_id, monitor_ids)
    parts = _span_selects(
        [literal(SPANS, Integer), ROLLUPS.c.monitor_id, *map(func.sum, _STATE_COUNTS)], spans,
        mine, group_by=ROLLUPS.c.monitor_id)
    parts += _edge_selects([ROLLUPS.c.monitor_id, *_STATE_COUNTS], edge_hours, mine)
    edge_rows: dict[tuple[int, int], tuple[int, ...]] = {}
    if not parts:
        return edge_rows
    for hour, monitor_id, *values in connection.execute(_union(parts)).all():
        if hour != SPANS:
            edge_rows[(monitor_id, hour)] = tuple(values)
            continue
        totals = into[monitor_id]  # a monitor has a row per span
        for i, value in enumerate(values):
            totals[i] += int(value or 0)
    return edge_rows


def _hour_pieces(ranges: Iterable[tuple[datetime, datetime]]) -> list[tuple[int, int, int]]:
    """Sub-hour ranges as (hour start, piece start, piece end) in epoch seconds."""
    pieces = []
    for low, high in ranges:
        for hour, _, seconds in split_span(epoch_seconds(low), epoch_seconds(high), "hour"):
            start = max(hour, epoch_seconds(low))
            pieces.append((hour, start, start + seconds))
    return pieces


def _hour_rows(
    connection: Connection, monitor_ids: Sequence[int], hours: set[int]
) -> dict[tuple[int, int], tuple[int, ...]]:
    """The hourly rollup rows of the given hours, by (monitor, hour)."""
    return _sum_rollups(connection, monitor_ids, (), {}, hours)


def _edge_seconds(
    connection: Connection, monitor_ids: Sequence[int], edges: list[tuple[int, int, int]],
    current: dict[int, _Current], into: dict[int, Totals],
    hour_rows: dict[tuple[int, int], tuple[int, ...]],
) -> None:
    """Add the rollup-held time of sub-hour pieces (time before each monitor's last result);
    `hour_rows` are the edges' hourly rollups, by (monitor, hour)."""
    for hour, low, high in edges:
        for monitor_id in monitor_ids:
            facts = current.get(monitor_id)
            if facts is None or facts.last_check_at is None:
                continue
            held_until = epoch_seconds(facts.last_check_at)  # rollups hold time before this
            if held_until <= low:
                continue
            row = hour_rows.get((monitor_id, hour))
            if row is None:
                continue  # nothing was counted in this hour
            totals = into[monitor_id]
            covered = min(hour + HOUR_S, held_until) - hour
            if low == hour and held_until <= high:
                for i in range(4):  # checks of edges are counted by the caller that needs them
                    totals[i] += row[i]
                continue
            states = row[:4]
            if sum(states) == 0:
                continue
            if covered in states and sum(states) == covered:
                totals[states.index(covered)] += min(high, held_until) - low
                continue
            exact = _seconds_from_changes(connection, monitor_id, low, min(high, held_until))
            for i in range(4):
                totals[i] += exact[i]


def _seconds_from_changes(connection: Connection, monitor_id: int, low: int, high: int) -> Totals:
    """State seconds over [low, high) from the monitor's state changes (an exact slow path)."""
    start, end = from_epoch(low), from_epoch(high)
    before = connection.execute(
        select(CHANGES.c.to_state)
        .where(CHANGES.c.monitor_id == monitor_id, CHANGES.c.at <= start)
        .order_by(CHANGES.c.at.desc(), CHANGES.c.id.desc()).limit(1)
    ).scalar()
    changes = connection.execute(
        select(CHANGES.c.at, CHANGES.c.to_state)
        .where(CHANGES.c.monitor_id == monitor_id, CHANGES.c.at > start, CHANGES.c.at < end)
        .order_by(CHANGES.c.at, CHANGES.c.id)
    ).all()
    totals = _zero()
    state, since = before, low
    for at, to_state in [*changes, (end, None)]:
        moment = epoch_seconds(utc(at))
        if state in STATE_INDEX and moment > since:
            totals[STATE_INDEX[state]] += moment - since
        state, since = to_state, max(since, moment)
    return totals


def _add_tail(
    totals: Totals, facts: _Current | None, start: datetime, end: datetime, now: datetime
) -> None:
    if facts is None or facts.last_check_at is None or facts.tail_state not in COUNTED_STATES:
        return
    low = max(epoch_seconds(start), epoch_seconds(facts.last_check_at))
    high = min(epoch_seconds(end), epoch_seconds(now))
    if high > low:
        totals[STATE_INDEX[facts.tail_state]] += high - low


def _plan_spans(plan: WindowPlan) -> list[Span]:
    return [*spans("day", plan.days), *spans("hour", plan.hours)]


def _edges(plan: WindowPlan, end: datetime) -> list[tuple[int, int, int]]:
    """The plan's sub-hour pieces before `end`, as (hour, start, end) epoch seconds."""
    limit = epoch_seconds(end)
    return [(h, a, min(b, limit)) for h, a, b in _hour_pieces(plan.raw) if a < limit]


def _window_totals(
    connection: Connection, monitor_ids: Sequence[int], start: datetime, end: datetime,
    now: datetime, current: dict[int, _Current], zone: tzinfo,
) -> dict[int, Totals]:
    plan = plan_window(start, _effective_end(end, current, zone), zone)
    totals: dict[int, Totals] = defaultdict(_zero)
    edges = _edges(plan, end)
    edge_rows = _sum_rollups(connection, monitor_ids, _plan_spans(plan), totals,
                             {hour for hour, _, _ in edges})
    _edge_seconds(connection, monitor_ids, edges, current, totals, edge_rows)
    for monitor_id in monitor_ids:
        _add_tail(totals[monitor_id], current.get(monitor_id), start, end, now)
    return totals


def uptime_by_window(
    monitor_ids: Sequence[int], windows: Sequence[str], now: datetime | None = None
) -> dict[int, dict[str, float | None]]:
    """Uptime (0..1) of each monitor over each rolling window ending now; None: nothing observed."""
    now = _now(now)
    lengths = {name: window_length(name) for name in windows}
    ids = list(dict.fromkeys(monitor_ids))
    answer: dict[int, dict[str, float | None]] = {m: {} for m in ids}
    if not ids:
        return answer
    zone = get_settings().zone
    with read_connection() as connection:
        current = _current(connection, ids)
        for name, length in lengths.items():
            totals = _window_totals(connection, ids, now - length, now, now, current, zone)
            for monitor_id in ids:
                answer[monitor_id][name] = _uptime(totals[monitor_id])
    return answer


def _histograms(
    connection: Connection, monitor_ids: Sequence[int], spans: Sequence[Span]
) -> dict[int, list[bytes]]:
    blobs: dict[int, list[bytes]] = defaultdict(list)
    if not spans:
        return blobs
    rows = connection.execute(_union(_span_selects(
        [ROLLUPS.c.monitor_id, ROLLUPS.c.histogram], spans,
        among(connection, ROLLUPS.c.monitor_id, monitor_ids), ROLLUPS.c.min_ms.is_not(None),
    ))).all()
    for monitor_id, blob in rows:
        blobs[monitor_id].append(bytes(blob))
    return blobs


def _percentiles(histogram: LatencyHistogram) -> dict[str, float | None]:
    p50, p95, p99 = histogram.quantiles(QUANTILES)
    return {"p50": p50, "p95": p95, "p99": p99}


def latency_by_window(
    monitor_ids: Sequence[int], window: str, now: datetime | None = None
) -> dict[int, dict[str, float | None]]:
    """p50/p95/p99 latency (ms) of successful checks over a rolling window ending now.

    The window's first hour is counted whole (hourly buckets are the finest pre-aggregate).
    """
    now = _now(now)
    start = now - window_length(window)
    ids = list(dict.fromkeys(monitor_ids))
    if not ids:
        return {}
    zone = get_settings().zone
    with read_connection() as connection:
        current = _current(connection, ids)
        end = _effective_end(now, current, zone)
        if end == now:
            end = from_epoch(-(-epoch_seconds(now) // HOUR_S) * HOUR_S)
        first_hour = from_epoch(epoch_seconds(start) // HOUR_S * HOUR_S)
        plan = plan_window(first_hour, end, zone)
        blobs = _histograms(connection, ids, _plan_spans(plan))
    return {m: _percentiles(merge_serialized(blobs.get(m, ()))) for m in ids}


@lru_cache(maxsize=512)
def _local_day(label: str) -> date:
    return date.fromisoformat(label[:10])


def _day_label(value: object, zone: tzinfo) -> date:
    """The calendar day of a daily rollup's bucket_start, whichever way the backend returned it.

    SQLite keeps the local wall time the row was written with (the offset is dropped), so the
    text's date is the local day; PostgreSQL returns an instant.
    """
    if isinstance(value, str):
        return _local_day(value)
    assert isinstance(value, datetime)
    return value.date() if value.tzinfo is None else value.astimezone(zone).date()


def daily_bars(
    monitor_ids: Sequence[int], days: int = 90, now: datetime | None = None
) -> dict[int, list[DayBar]]:
    """The last `days` calendar days (configured zone) of each monitor, oldest first, today last."""
    if days < 1:
        raise ValueError("days must be at least 1")
    now = _now(now)
    ids = list(dict.fromkeys(monitor_ids))
    if not ids:
        return {}
    zone = get_settings().zone
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    low = datetime.combine(first, time(0), tzinfo=zone)
    high = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    with read_connection() as connection:
        current = _current(connection, ids)
        start_column: ColumnElement[Any] = ROLLUPS.c.bucket_start
        if connection.dialect.name == "sqlite":
            start_column = type_coerce(start_column, String)  # skip parsing 90,000 timestamps
        rows = connection.execute(
            select(ROLLUPS.c.monitor_id, start_column, ROLLUPS.c.up_s, ROLLUPS.c.degraded_s,
                   ROLLUPS.c.down_s, ROLLUPS.c.maintenance_s, ROLLUPS.c.checks)
            .where(among(connection, ROLLUPS.c.monitor_id, ids), ROLLUPS.c.period == "day",
                   ROLLUPS.c.bucket_start >= low, ROLLUPS.c.bucket_start < high)
        ).all()
    by_day: dict[int, dict[date, list[int]]] = {m: {} for m in ids}
    for monitor_id, label, up, degraded, down, maintenance, checks in rows:
        by_day[monitor_id][_day_label(label, zone)] = [up, degraded, down, maintenance, checks]
    for monitor_id in ids:
        _add_tail_by_day(by_day[monitor_id], current.get(monitor_id), low, now, zone)
    calendar = [first + timedelta(days=i) for i in range(days)]
    return {m: [_bar(day, by_day[m].get(day)) for day in calendar] for m in ids}


def _add_tail_by_day(
    days: dict[date, list[int]], facts: _Current | None, low: datetime, now: datetime,
    zone: tzinfo,
) -> None:
    if facts is None or facts.last_check_at is None or facts.tail_state not in COUNTED_STATES:
        return
    start = max(epoch_seconds(low), epoch_seconds(facts.last_check_at))
    index = STATE_INDEX[facts.tail_state]
    for day_start, _, seconds in split_span(start, epoch_seconds(now), "day", zone):
        day = from_epoch(day_start, zone).date()
        values = days.setdefault(day, [0, 0, 0, 0, 0])
        values[index] += seconds


_EMPTY_BARS: dict[date, DayBar] = {}


def _bar(day: date, values: list[int] | None) -> DayBar:
    if values is None:
        bar = _EMPTY_BARS.get(day)
        if bar is None:
            bar = _EMPTY_BARS[day] = DayBar(day, None, 0, 0, 0, 0, 0, 0)
        return bar
    up, degraded, down, maintenance, checks = values
    observed = up + degraded + down
    uptime = (up + degraded) / observed if observed else None
    return DayBar(day, uptime, up, degraded, down, maintenance, observed, checks)


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
