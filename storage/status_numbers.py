"""The status page's numbers for every monitor in one call: state, uptime over 24h/7d/30d/90d,
90 daily bars and p95 latency over 30 days.

The numbers equal `uptime_by_window`, `daily_bars` and `latency_by_window` (the tests check it);
what differs is how often they are read. Everything before today's local midnight ("the past") is
computed once per clock hour and kept in memory; a read then fetches only the monitors' current
state and today's daily rollup rows, and adds the sub-hour window edges and the time since each
monitor's last result.

Why the past may be kept: rollups count a state's time when the next result arrives, so a past
day's row changes only while its monitor has no result after that day. A monitor whose last result
is before today's midnight is never kept (it is read the slow way, every time). Rebuild and prune
rewrite old rows in place: they call `forget_cached_past()`. A rebuild run by another process is
seen within the hour, when the cache key (which holds the current hour) moves on.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import numpy as np
from sqlalchemy import Connection, String, select, type_coerce

from analytics.histogram import (
    _DENSE_TAGS,
    _MIN_MAX,
    LatencyHistogram,
    _get_varint,
    _unzigzag,
    bucket_value,
    merge_serialized,
)
from analytics.rollup import plan_window
from analytics.uptime import HOUR_S, epoch_seconds
from core.settings import get_settings
from storage.db import get_engine
from storage.models import as_utc
from storage.stats import (
    MONITORS,
    ROLLUPS,
    STATE_INDEX,
    STATES,
    WINDOWS,
    DayBar,
    Totals,
    _bar,
    _Current,
    _day_label,
    _end_of_local_day,
    _histograms,
    _hour_pieces,
    _hour_rows,
    _now,
    _seconds_from_changes,
    _sum_rollups,
    _uptime,
    _zero,
    daily_bars,
    latency_by_window,
    uptime_by_window,
)

READ_MODEL_WINDOWS = ("24h", "7d", "30d", "90d")
BAR_DAYS = 90
P95 = 0.95


@dataclass(frozen=True, slots=True)
class StatusNumbers:
    """What the status page shows for one monitor."""

    state: str  # up, degraded, down, maintenance, pending or paused
    uptime: dict[str, float | None]  # 24h, 7d, 30d, 90d; None: nothing observed
    bars: list[DayBar]  # 90 calendar days, oldest first, today last
    p95_30d: float | None  # ms, successful checks; the window's first hour counts whole


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each window's pieces come from, for reads within one clock hour."""

    today: date
    midnight: datetime
    end: datetime  # the end of today: today's daily row is read whole
    days: dict[str, list[tuple[datetime, datetime]]]  # whole past days per window
    hours: dict[str, list[tuple[datetime, datetime]]]  # whole past hours per window
    edges: dict[str, list[tuple[int, int, int]]]  # (hour, low, high) sub-hour edges
    latency_days: list[tuple[datetime, datetime]]
    latency_hours: list[tuple[datetime, datetime]]

    @property
    def key(self) -> tuple:
        edge_hours = tuple((n, tuple(h for h, _, _ in e)) for n, e in self.edges.items())
        return (
            self.midnight, tuple(self.days.items()), tuple(self.hours.items()), edge_hours,
            tuple(self.latency_days), tuple(self.latency_hours),
        )


@dataclass(frozen=True, slots=True)
class _Histogram:
    """A histogram as a dense count array from `first` (merged fast with numpy)."""

    zeros: int
    min_ms: float
    max_ms: float
    first: int
    counts: np.ndarray

    @classmethod
    def of(cls, histogram: LatencyHistogram) -> _Histogram | None:
        if histogram.count == 0 or histogram.min_ms is None or histogram.max_ms is None:
            return None
        if not histogram.buckets:
            return cls(histogram.zeros, histogram.min_ms, histogram.max_ms, 0,
                       np.zeros(0, np.int64))
        first, last = min(histogram.buckets), max(histogram.buckets)
        counts = np.zeros(last - first + 1, np.int64)
        counts[np.fromiter(histogram.buckets, np.int64) - first] = np.fromiter(
            histogram.buckets.values(), np.int64)
        return cls(histogram.zeros, histogram.min_ms, histogram.max_ms, first, counts)


def _decode(blob: bytes) -> _Histogram | None:
    """A stored histogram (analytics/histogram.py's format) straight into a count array.

    Today's daily histogram is dense by midday; reading it without a dict per bucket is what
    keeps a read of 1,000 monitors short.
    """
    tag = blob[0]
    if tag not in _DENSE_TAGS:
        return _Histogram.of(LatencyHistogram.from_bytes(blob))
    zeros, offset = _get_varint(blob, 1)
    min_ms, max_ms = _MIN_MAX.unpack_from(blob, offset)
    zigzagged, offset = _get_varint(blob, offset + _MIN_MAX.size)
    dtype = np.dtype(_DENSE_TAGS[tag]).newbyteorder("<")
    counts = np.frombuffer(blob, dtype, offset=offset).astype(np.int64)
    return _Histogram(zeros, min_ms, max_ms, _unzigzag(zigzagged), counts)


@dataclass(frozen=True, slots=True)
class _Past:
    """One monitor's numbers before today's midnight."""

    totals: dict[str, Totals]  # per window: whole past days and hours
    edge_rows: dict[int, tuple[int, ...]]  # hour -> (up, degraded, down, maintenance) seconds
    bars: list[DayBar]  # the past bar days, oldest first
    histogram: _Histogram | None  # the past part of the 30-day latency window


_lock = threading.Lock()
_cache_key: tuple | None = None
_cache: dict[tuple[int, datetime | None], _Past] = {}


def forget_cached_past() -> None:
    """Drop what is kept: call after anything rewrote old rollup rows (rebuild, prune)."""
    global _cache_key
    with _lock:
        _cache_key = None
        _cache.clear()


def _layout(now: datetime, zone: tzinfo) -> _Layout | None:
    """The layout of the read at `now`; None when a window does not fit it (then read slowly)."""
    today = now.astimezone(zone).date()
    end = _end_of_local_day(now, zone)
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    now_s, midnight_s = epoch_seconds(now), epoch_seconds(midnight)
    days, hours, edges = {}, {}, {}
    for name in READ_MODEL_WINDOWS:
        plan = plan_window(now - WINDOWS[name], end, zone)
        if any(high != end for _, high in plan.days) or any(
            epoch_seconds(high) > midnight_s for _, high in plan.hours
        ):
            return None
        days[name] = [(low, midnight) for low, _ in plan.days if low < midnight]
        hours[name] = plan.hours
        edges[name] = [(h, a, min(b, now_s)) for h, a, b in _hour_pieces(plan.raw) if a < now_s]
        if any(b > midnight_s for _, _, b in edges[name]):
            return None
    first_hour = (epoch_seconds(now - WINDOWS["30d"]) // HOUR_S) * HOUR_S
    latency = plan_window(datetime.fromtimestamp(first_hour, zone), end, zone)
    if any(high != end for _, high in latency.days) or any(
        epoch_seconds(high) > midnight_s for _, high in latency.hours
    ):
        return None
    return _Layout(
        today, midnight, end, days, hours, edges,
        [(low, midnight) for low, _ in latency.days if low < midnight], latency.hours,
    )


def _current(connection: Connection, ids: Sequence[int]) -> dict[int, tuple[_Current, datetime]]:
    rows = connection.execute(
        select(MONITORS.c.id, MONITORS.c.paused, MONITORS.c.created_at, STATES.c.state,
               STATES.c.last_check_at)
        .select_from(MONITORS.outerjoin(STATES, STATES.c.monitor_id == MONITORS.c.id))
        .where(MONITORS.c.id.in_(ids))
    )
    return {
        monitor_id: (_Current("paused" if paused else (state or "pending"), as_utc(last)),
                     created_at)
        for monitor_id, paused, created_at, state, last in rows
    }


def _day_rows(
    connection: Connection, ids: Sequence[int], low: datetime, high: datetime, zone: tzinfo,
    with_histogram: bool,
) -> dict[int, dict[date, tuple]]:
    start_column = ROLLUPS.c.bucket_start
    if connection.dialect.name == "sqlite":
        start_column = type_coerce(start_column, String)  # skip parsing every timestamp
    columns = [ROLLUPS.c.monitor_id, start_column, ROLLUPS.c.up_s, ROLLUPS.c.degraded_s,
               ROLLUPS.c.down_s, ROLLUPS.c.maintenance_s, ROLLUPS.c.checks, ROLLUPS.c.failures]
    if with_histogram:
        columns.append(ROLLUPS.c.histogram)
    rows = connection.execute(
        select(*columns).where(ROLLUPS.c.monitor_id.in_(ids), ROLLUPS.c.period == "day",
                               ROLLUPS.c.bucket_start >= low, ROLLUPS.c.bucket_start < high)
    )
    by_monitor: dict[int, dict[date, tuple]] = {}
    for monitor_id, label, *values in rows:
        by_monitor.setdefault(monitor_id, {})[_day_label(label, zone)] = tuple(values)
    return by_monitor


def _local_dates(ranges: list[tuple[datetime, datetime]], zone: tzinfo) -> list[date]:
    dates = []
    for low, high in ranges:
        day, last = low.astimezone(zone).date(), high.astimezone(zone).date()
        while day < last:
            dates.append(day)
            day += timedelta(days=1)
    return dates


def _compute_past(
    connection: Connection, ids: list[int], layout: _Layout, zone: tzinfo
) -> dict[int, _Past]:
    first_bar = layout.today - timedelta(days=BAR_DAYS - 1)
    window_dates = {n: _local_dates(r, zone) for n, r in layout.days.items()}
    earliest = min([first_bar, *(d[0] for d in window_dates.values() if d)])
    low = datetime.combine(earliest, datetime.min.time(), tzinfo=zone)
    day_rows = _day_rows(connection, ids, low, layout.midnight, zone, with_histogram=False)
    hour_totals: dict[str, dict[int, Totals]] = {}
    for name, ranges in layout.hours.items():
        hour_totals[name] = {}
        if ranges:
            into: dict[int, Totals] = defaultdict(_zero)
            _sum_rollups(connection, ids, "hour", ranges, into)
            hour_totals[name] = into
    edge_hours = {h for edges in layout.edges.values() for h, _, _ in edges}
    edge_rows = _hour_rows(connection, ids, edge_hours)
    blobs = _histograms(connection, ids, layout.latency_days, layout.latency_hours)
    bar_days = [first_bar + timedelta(days=i) for i in range(BAR_DAYS - 1)]
    past = {}
    for monitor_id in ids:
        rows = day_rows.get(monitor_id, {})
        totals = {}
        for name in READ_MODEL_WINDOWS:
            sums = list(hour_totals[name].get(monitor_id, _zero()))
            for day in window_dates[name]:
                row = rows.get(day)
                if row is not None:
                    for i in range(6):
                        sums[i] += row[i]
            totals[name] = sums
        past[monitor_id] = _Past(
            totals,
            {hour: row[:4] for (m, hour), row in edge_rows.items() if m == monitor_id},
            [_bar(day, list(rows[day][:5]) if day in rows else None) for day in bar_days],
            _Histogram.of(merge_serialized(blobs.get(monitor_id, ()))),
        )
    return past


def _edge_seconds(
    connection: Connection, monitor_id: int, edges: list[tuple[int, int, int]],
    rows: dict[int, tuple[int, ...]], held_until: int, totals: Totals,
) -> None:
    """Seconds of sub-hour edges held by rollups (see storage.stats._edge_seconds)."""
    for hour, low, high in edges:
        row = rows.get(hour)
        if row is None or held_until <= low or sum(row) == 0:
            continue
        covered = min(hour + HOUR_S, held_until) - hour
        if low == hour and held_until <= high:
            for i in range(4):
                totals[i] += row[i]
        elif covered in row and sum(row) == covered:
            totals[row.index(covered)] += min(high, held_until) - low
        else:
            exact = _seconds_from_changes(connection, monitor_id, low, min(high, held_until))
            for i in range(4):
                totals[i] += exact[i]


def _p95(parts: list[tuple[_Histogram | None, _Histogram | None]]) -> list[float | None]:
    """p95 of each pair of histograms merged (nearest rank, as LatencyHistogram.quantiles)."""
    present = [h for pair in parts for h in pair if h is not None and len(h.counts)]
    lowest = min((h.first for h in present), default=0)
    width = max((h.first + len(h.counts) for h in present), default=0) - lowest + 1
    matrix = np.zeros((len(parts), width), np.int64)  # column 0 holds exact zeros
    bounds: list[tuple[float, float] | None] = []
    for row, pair in enumerate(parts):
        low = high = None
        for histogram in pair:
            if histogram is None:
                continue
            matrix[row, 0] += histogram.zeros
            start = histogram.first - lowest + 1
            matrix[row, start:start + len(histogram.counts)] += histogram.counts
            low = histogram.min_ms if low is None else min(low, histogram.min_ms)
            high = histogram.max_ms if high is None else max(high, histogram.max_ms)
        bounds.append(None if low is None or high is None else (low, high))
    cumulative = matrix.cumsum(axis=1)
    totals = cumulative[:, -1]
    ranks = np.maximum(1, np.ceil(P95 * totals.astype(np.float64)))
    positions = (cumulative < ranks[:, None]).sum(axis=1).tolist()
    answers: list[float | None] = []
    for row, position in enumerate(positions):
        limits = bounds[row]
        if limits is None or not totals[row]:
            answers.append(None)
        elif position == 0:
            answers.append(0.0)
        else:
            answers.append(min(limits[1], max(limits[0], bucket_value(lowest + position - 1))))
    return answers


def _slow(ids: list[int], now: datetime, states: dict[int, str]) -> dict[int, StatusNumbers]:
    """The three separate reads, for monitors (or moments) the cache cannot serve."""
    if not ids:
        return {}
    uptime = uptime_by_window(ids, READ_MODEL_WINDOWS, now=now)
    bars = daily_bars(ids, BAR_DAYS, now=now)
    latency = latency_by_window(ids, "30d", now=now)
    return {
        m: StatusNumbers(states.get(m, "pending"), uptime[m], bars[m], latency[m]["p95"])
        for m in ids
    }


def status_read_model(
    monitor_ids: Sequence[int], now: datetime | None = None
) -> dict[int, StatusNumbers]:
    """Every given monitor's status page numbers; unknown ids are left out."""
    global _cache_key
    now = _now(now)
    ids = list(dict.fromkeys(monitor_ids))
    if not ids:
        return {}
    zone = get_settings().zone
    engine = get_engine()
    layout = _layout(now, zone)
    with engine.connect() as connection:
        current = _current(connection, ids)
        ids = [m for m in ids if m in current]
        states = {m: facts.tail_state for m, (facts, _) in current.items()}
        if layout is None or any(
            f.last_check_at is not None and f.last_check_at > now for f, _ in current.values()
        ):
            return _slow(ids, now, states)
        midnight_s = epoch_seconds(layout.midnight)
        # Kept only for monitors whose past rows cannot change any more (see the docstring).
        keepable = [m for m in ids if current[m][0].last_check_at is None
                    or epoch_seconds(current[m][0].last_check_at) >= midnight_s]
        key = (str(engine.url), str(zone), layout.key)
        with _lock:
            if _cache_key != key:
                _cache.clear()
                _cache_key = key
            past = {m: _cache.get((m, current[m][1])) for m in keepable}
        missing = [m for m, p in past.items() if p is None]
        if missing:
            computed = _compute_past(connection, missing, layout, zone)
            past.update(computed)
            with _lock:
                if _cache_key == key:
                    _cache.update({(m, current[m][1]): p for m, p in computed.items()})
        today_rows = _day_rows(connection, list(past), layout.midnight, layout.end, zone,
                               with_histogram=True)
        answer = _slow([m for m in ids if m not in past], now, states)
        kept = [m for m in ids if m in past]
        numbers = {m: _numbers_today(connection, m, past[m], current[m][0], today_rows.get(
            m, {}).get(layout.today), layout, now) for m in kept}
    p95s = _p95([(past[m].histogram, numbers[m][2]) for m in kept])
    for monitor_id, p95 in zip(kept, p95s, strict=True):
        uptime, bars, _ = numbers[monitor_id]
        answer[monitor_id] = StatusNumbers(states[monitor_id], uptime, bars, p95)
    return {m: answer[m] for m in ids}


def _numbers_today(
    connection: Connection, monitor_id: int, past: _Past, facts: _Current, row: tuple | None,
    layout: _Layout, now: datetime,
) -> tuple[dict[str, float | None], list[DayBar], _Histogram | None]:
    """Uptime and bars of one monitor: the kept past plus today, the edges and the tail."""
    now_s = epoch_seconds(now)
    last_s = epoch_seconds(facts.last_check_at) if facts.last_check_at else None
    tail_index = STATE_INDEX.get(facts.tail_state) if last_s is not None else None
    uptime: dict[str, float | None] = {}
    for name in READ_MODEL_WINDOWS:
        totals = list(past.totals[name])
        if row is not None:
            for i in range(6):
                totals[i] += row[i]
        if last_s is not None:
            _edge_seconds(connection, monitor_id, layout.edges[name], past.edge_rows, last_s,
                          totals)
            if tail_index is not None:
                low = max(now_s - int(WINDOWS[name].total_seconds()), last_s)
                if now_s > low:
                    totals[tail_index] += now_s - low
        uptime[name] = _uptime(totals)
    values = list(row[:5]) if row is not None else None
    if tail_index is not None and now_s > last_s:  # type: ignore[operator]
        values = values or [0, 0, 0, 0, 0]
        values[tail_index] += now_s - max(last_s, epoch_seconds(layout.midnight))  # type: ignore[arg-type]
    today_histogram = _decode(bytes(row[6])) if row is not None and row[6] else None
    return uptime, [*past.bars, _bar(layout.today, values)], today_histogram
