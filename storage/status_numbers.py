"""The status page's numbers for every monitor in one call: state, uptime and p50/p95/p99
latency over 24h/7d/30d/90d/1y, and 90 daily bars. Every public answer (through the snapshot's
`storage.status.public_status`), /metrics and the dashboard overview read them here.

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
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, Integer, String, literal, select, type_coerce

from analytics.histogram_blobs import merge_serialized
from analytics.histogram_dense import DenseHistogram, HistogramBlock, decode_dense
from analytics.rollup_windows import plan_window
from analytics.uptime import HOUR_S, epoch_seconds, from_epoch
from config.settings import get_settings
from domain.states import NEW_STATE, effective_state
from storage.daily_bars import DayBar, _bar, _day_label, daily_bars
from storage.db import get_engine, read_connection
from storage.models import as_utc
from storage.rollup_reads import (
    _STATE_COUNTS,
    _histograms,
    _hour_pieces,
    _hour_rows,
    _seconds_from_changes,
    _sum_rollups,
    _union,
    spans,
)
from storage.window_basics import (
    MONITORS,
    ROLLUPS,
    STATE_INDEX,
    STATES,
    WINDOWS,
    Totals,
    _Current,
    _end_of_local_day,
    _now,
    _zero,
    among,
)
from storage.window_reads import latency_by_window, uptime_by_window

READ_MODEL_WINDOWS = ("24h", "7d", "30d", "90d", "1y")
BAR_DAYS = 90
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True, slots=True)
class StatusNumbers:
    """What the status page shows for one monitor."""

    state: str  # one of domain.states.STATES
    uptime: dict[str, float | None]  # per READ_MODEL_WINDOWS; None: nothing observed
    bars: list[DayBar]  # 90 calendar days, oldest first, today last
    # window -> p50/p95/p99 in ms of successful checks; the window's first hour counts whole
    latency: dict[str, dict[str, float | None]]

    @property
    def p95_30d(self) -> float | None:
        return self.latency.get("30d", {}).get("p95")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each window's pieces come from, for reads within one clock hour."""

    today: date
    midnight: datetime
    end: datetime  # the end of today: today's daily row is read whole
    days: dict[str, list[tuple[datetime, datetime]]]  # whole past days per window
    hours: dict[str, list[tuple[datetime, datetime]]]  # whole past hours per window
    edges: dict[str, list[tuple[int, int, int]]]  # (hour, low, high) sub-hour edges
    # Per window, the whole past days and hours of its latency (from the window's first hour)
    latency: dict[str, tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]]

    @property
    def edges_settled_after(self) -> int:
        """A last result after this instant lies after every edge's hour: each edge's rollup
        row then holds its whole hour (see `_edge_states`)."""
        return max((hour + HOUR_S for e in self.edges.values() for hour, _, _ in e), default=0)

    @property
    def day_key(self) -> tuple:
        """What the whole past days depend on: the same for every clock hour of a day (a
        window's first whole day moves only when its start crosses a midnight)."""
        latency_days = tuple((n, tuple(d)) for n, (d, _) in self.latency.items())
        return (self.midnight, tuple(self.days.items()), latency_days)

    @property
    def key(self) -> tuple:
        edge_hours = tuple((n, tuple(h for h, _, _ in e)) for n, e in self.edges.items())
        latency = tuple((n, tuple(d), tuple(h)) for n, (d, h) in self.latency.items())
        return (
            self.midnight, tuple(self.days.items()), tuple(self.hours.items()), edge_hours,
            latency,
        )


@dataclass(frozen=True, slots=True)
class _Past:
    """One monitor's numbers before today's midnight."""

    totals: dict[str, Totals]  # per window: whole past days and hours
    edge_rows: dict[int, tuple[int, ...]]  # hour -> (up, degraded, down, maintenance) seconds
    edge_states: dict[int, int]  # hour -> see `_edge_states`
    bars: list[DayBar]  # the past bar days, oldest first
    histograms: dict[str, DenseHistogram | None]  # per window, the past part of its latency


@dataclass(frozen=True, slots=True)
class _DayPart:
    """One monitor's whole past days, the same all day (see `_Layout.day_key`)."""

    totals: dict[str, Totals]  # per window: its whole past days
    bars: list[DayBar]  # the past bar days, oldest first
    histograms: dict[str, DenseHistogram | None]  # per window: its latency's whole past days
    # Per window, for each hour start t (epoch seconds) of its first, partial day from the hour
    # this part was read in: the sums and the latency of the hours from t to that day's end.
    # A later clock hour of the day takes its window's whole hours from here, without a read.
    hours_from: dict[str, dict[int, tuple[Totals, DenseHistogram | None]]]


_lock = threading.Lock()
# The whole past days, by (monitor id, created_at), for the day of `_day_parts_key`: a new clock
# hour reads only its few hour rows and adds them to these (a year of daily rows is read once
# a day, when the day settles).
_day_parts_key: tuple | None = None
_day_parts: dict[tuple[int, datetime | None], _DayPart] = {}
_cache_key: tuple | None = None
_cache: dict[tuple[int, datetime | None], _Past] = {}


def forget_cached_past() -> None:
    """Drop what is kept: call after anything rewrote old rollup rows (rebuild, prune)."""
    global _cache_key, _day_parts_key
    with _lock:
        _cache_key = _day_parts_key = None
        _day_parts.clear()
        _cache.clear()
        _blocks.clear()
        _latency_kept.clear()


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
    latency = {}
    for name in READ_MODEL_WINDOWS:
        first_hour = (epoch_seconds(now - WINDOWS[name]) // HOUR_S) * HOUR_S
        plan = plan_window(datetime.fromtimestamp(first_hour, zone), end, zone)
        if any(high != end for _, high in plan.days) or any(
            epoch_seconds(high) > midnight_s for _, high in plan.hours
        ):
            return None
        latency[name] = ([(low, midnight) for low, _ in plan.days if low < midnight], plan.hours)
    return _Layout(today, midnight, end, days, hours, edges, latency)


def _current(
    connection: Connection, ids: Sequence[int]
) -> dict[int, tuple[_Current, datetime, int | None]]:
    """Each monitor's tail facts, creation time (a cache key) and last result in epoch seconds."""
    rows = connection.execute(
        select(MONITORS.c.id, MONITORS.c.paused, MONITORS.c.created_at, STATES.c.state,
               STATES.c.last_check_at)
        .select_from(MONITORS.outerjoin(STATES, STATES.c.monitor_id == MONITORS.c.id))
        .where(among(connection, MONITORS.c.id, ids))
    ).all()
    current = {}
    for monitor_id, paused, created_at, state, last in rows:
        last = as_utc(last)
        current[monitor_id] = (_Current(effective_state(paused, state), last),
                               created_at, epoch_seconds(last) if last is not None else None)
    return current


def _day_rows(
    connection: Connection, ids: Sequence[int], low: datetime, high: datetime, zone: tzinfo,
    with_histogram: bool,
) -> dict[int, dict[date, tuple]]:
    start_column: ColumnElement[Any] = ROLLUPS.c.bucket_start
    if connection.dialect.name == "sqlite":
        start_column = type_coerce(start_column, String)  # skip parsing every timestamp
    columns = [ROLLUPS.c.monitor_id, start_column, ROLLUPS.c.up_s, ROLLUPS.c.degraded_s,
               ROLLUPS.c.down_s, ROLLUPS.c.maintenance_s, ROLLUPS.c.checks, ROLLUPS.c.failures]
    if with_histogram:
        columns.append(ROLLUPS.c.histogram)
    rows = connection.execute(
        select(*columns).where(among(connection, ROLLUPS.c.monitor_id, ids),
                               ROLLUPS.c.period == "day", ROLLUPS.c.bucket_start >= low,
                               ROLLUPS.c.bucket_start < high)
    ).all()
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


def _compute_day_parts(
    connection: Connection, ids: list[int], layout: _Layout, zone: tzinfo
) -> dict[int, _DayPart]:
    """The whole past days of each monitor: a year of daily rows, read once a day."""
    first_bar = layout.today - timedelta(days=BAR_DAYS - 1)
    window_dates = {n: _local_dates(r, zone) for n, r in layout.days.items()}
    earliest = min([first_bar, *(d[0] for d in window_dates.values() if d)])
    low = datetime.combine(earliest, datetime.min.time(), tzinfo=zone)
    day_rows = _day_rows(connection, ids, low, layout.midnight, zone, with_histogram=False)
    blobs = {name: _histograms(connection, ids, spans("day", days))
             for name, (days, _) in layout.latency.items()}
    bar_days = [first_bar + timedelta(days=i) for i in range(BAR_DAYS - 1)]
    hours_from = _hours_from(connection, ids, layout)
    parts = {}
    for monitor_id in ids:
        rows = day_rows.get(monitor_id, {})
        totals = {}
        for name in READ_MODEL_WINDOWS:
            sums = _zero()
            for day in window_dates[name]:
                day_row = rows.get(day)
                if day_row is not None:
                    for i in range(6):
                        sums[i] += day_row[i]
            totals[name] = sums
        parts[monitor_id] = _DayPart(
            totals,
            [_bar(day, list(rows[day][:5]) if day in rows else None) for day in bar_days],
            {name: DenseHistogram.of(merge_serialized(window_blobs.get(monitor_id, ())))
             for name, window_blobs in blobs.items()},
            {name: by_monitor.get(monitor_id, nothing) for name, (by_monitor, nothing)
             in hours_from.items()},
        )
    return parts


def _first_day_hours(layout: _Layout, name: str) -> tuple[int, int] | None:
    """The hour span [first, end) the window `name` reads whole hours from, its uptime's and its
    latency's together (both end where its first whole day begins); None when they don't."""
    ranges = [r for r in (layout.hours[name], layout.latency[name][1]) if r]
    if not ranges:
        return None
    if any(len(r) != 1 for r in ranges) or len({r[0][1] for r in ranges}) != 1:
        return None
    first = min(epoch_seconds(r[0][0]) for r in ranges)
    end = epoch_seconds(ranges[0][0][1])
    return None if (end - first) % HOUR_S else (first, end)


_NO_HOURS: tuple[Totals, DenseHistogram | None] = ([0] * 6, None)


def _hours_from(
    connection: Connection, ids: list[int], layout: _Layout
) -> dict[str, tuple[dict[int, dict[int, tuple[Totals, DenseHistogram | None]]],
                     dict[int, tuple[Totals, DenseHistogram | None]]]]:
    """Per window: by monitor, the sums and latency of the hours from each hour start t to the
    window's first whole day (see `_DayPart.hours_from`), and what a monitor without any of
    those rows gets. One statement: a SELECT per hour, each an indexed lookup."""
    spans_by_window = {name: span for name in READ_MODEL_WINDOWS
                       if (span := _first_day_hours(layout, name)) is not None}
    hours = sorted({h for first, end in spans_by_window.values()
                    for h in range(first, end, HOUR_S)})
    rows: dict[tuple[int, int], tuple] = {}
    if hours:
        mine = among(connection, ROLLUPS.c.monitor_id, ids)
        parts = [select(literal(hour, Integer), ROLLUPS.c.monitor_id, *_STATE_COUNTS,
                        ROLLUPS.c.min_ms, ROLLUPS.c.histogram)
                 .where(mine, ROLLUPS.c.period == "hour",
                        ROLLUPS.c.bucket_start == from_epoch(hour))
                 for hour in hours]
        for hour, monitor_id, *values in connection.execute(_union(parts)).all():
            rows[(monitor_id, hour)] = tuple(values)
    with_rows = {m for m, _ in rows}
    answer = {}
    for name, (first, end) in spans_by_window.items():
        starts = list(range(end - HOUR_S, first - 1, -HOUR_S))  # latest first
        nothing = {t: _NO_HOURS for t in starts}
        by_monitor = {}
        for monitor_id in with_rows:
            sums, histogram = [0] * 6, None
            suffixes = {}
            for t in starts:
                row = rows.get((monitor_id, t))
                if row is not None:
                    sums = [a + int(b or 0) for a, b in zip(sums, row[:6], strict=True)]
                    if row[6] is not None and row[7]:
                        histogram = _combined(histogram, decode_dense(bytes(row[7])))
                suffixes[t] = (sums, histogram)
            by_monitor[monitor_id] = suffixes
        answer[name] = (by_monitor, nothing)
    return answer


def _compute_past(
    connection: Connection, ids: list[int], layout: _Layout, day_parts: dict[int, _DayPart]
) -> dict[int, _Past]:
    """Each monitor's past: its whole past days (`day_parts`) with this clock hour's whole past
    hours (kept with them when they are, else read) and edge hours, which are few rows."""
    kept = _kept_hours(ids, layout, day_parts)
    if kept is not None:
        edge_hours = {h for edges in layout.edges.values() for h, _, _ in edges}
        edge_rows_of: dict[int, dict[int, tuple[int, ...]]] = defaultdict(dict)
        for (monitor_id, hour), row in _hour_rows(connection, ids, edge_hours).items():
            edge_rows_of[monitor_id][hour] = row[:4]
        past = {}
        for monitor_id in ids:
            days, (totals, histograms) = day_parts[monitor_id], kept[monitor_id]
            edges = edge_rows_of.get(monitor_id, {})
            past[monitor_id] = _Past(totals, edges, _edge_states(edges), days.bars, histograms)
        return past
    hour_totals: dict[str, dict[int, Totals]] = {}
    for name, ranges in layout.hours.items():
        hour_totals[name] = {}
        if ranges:
            into: dict[int, Totals] = defaultdict(_zero)
            _sum_rollups(connection, ids, spans("hour", ranges), into)
            hour_totals[name] = into
    edge_hours = {h for edges in layout.edges.values() for h, _, _ in edges}
    edge_rows = _hour_rows(connection, ids, edge_hours)
    hour_blobs = {name: _histograms(connection, ids, spans("hour", hours))
                  for name, (_, hours) in layout.latency.items()}
    edge_rows_by_monitor: dict[int, dict[int, tuple[int, ...]]] = defaultdict(dict)
    for (monitor_id, hour), row in edge_rows.items():
        edge_rows_by_monitor[monitor_id][hour] = row[:4]
    past = {}
    for monitor_id in ids:
        days = day_parts[monitor_id]
        totals = {}
        for name in READ_MODEL_WINDOWS:
            hours = hour_totals[name].get(monitor_id)
            totals[name] = (list(days.totals[name]) if hours is None
                            else [a + b for a, b in zip(days.totals[name], hours, strict=True)])
        edges = edge_rows_by_monitor.get(monitor_id, {})
        histograms = {}
        for name, window_blobs in hour_blobs.items():
            in_hours = window_blobs.get(monitor_id)
            histograms[name] = (days.histograms[name] if not in_hours else _combined(
                days.histograms[name], DenseHistogram.of(merge_serialized(in_hours))))
        past[monitor_id] = _Past(totals, edges, _edge_states(edges), days.bars, histograms)
    return past


def _kept_hours(
    ids: list[int], layout: _Layout, day_parts: dict[int, _DayPart]
) -> dict[int, tuple[dict[str, Totals], dict[str, DenseHistogram | None]]] | None:
    """Each monitor's totals and latency per window from its day part and the hours kept with
    it; None when one of them does not hold this clock hour's whole hours."""
    wanted = {}
    for name in READ_MODEL_WINDOWS:
        uptime_hours, latency_hours = layout.hours[name], layout.latency[name][1]
        wanted[name] = (epoch_seconds(uptime_hours[0][0]) if uptime_hours else None,
                        epoch_seconds(latency_hours[0][0]) if latency_hours else None)
    answer = {}
    for monitor_id in ids:
        days = day_parts[monitor_id]
        totals, histograms = {}, {}
        for name, (uptime_from, latency_from) in wanted.items():
            totals[name] = list(days.totals[name])
            histograms[name] = days.histograms[name]
            if uptime_from is None and latency_from is None:
                continue
            suffixes = days.hours_from.get(name)
            if suffixes is None:
                return None
            if uptime_from is not None:
                if uptime_from not in suffixes:
                    return None
                totals[name] = [a + b for a, b in zip(totals[name], suffixes[uptime_from][0],
                                                      strict=True)]
            if latency_from is not None:
                if latency_from not in suffixes:
                    return None
                histograms[name] = _combined(histograms[name], suffixes[latency_from][1])
        answer[monitor_id] = (totals, histograms)
    return answer


def _combined(a: DenseHistogram | None, b: DenseHistogram | None) -> DenseHistogram | None:
    """The histogram of both: what merging their rollups' blobs together gives."""
    if a is None or b is None:
        return b if a is None else a
    if not len(a.counts) or not len(b.counts):
        first, counts = (b.first, b.counts) if not len(a.counts) else (a.first, a.counts)
        if len(counts):
            counts = counts.copy()
    else:
        first = min(a.first, b.first)
        end = max(a.first + len(a.counts), b.first + len(b.counts))
        counts = np.zeros(end - first, np.int64)
        counts[a.first - first:a.first - first + len(a.counts)] += a.counts
        counts[b.first - first:b.first - first + len(b.counts)] += b.counts
    return DenseHistogram(a.zeros + b.zeros, min(a.min_ms, b.min_ms), max(a.max_ms, b.max_ms),
                          first, counts)


NOTHING, MIXED = -2, -1


def _edge_states(rows: dict[int, tuple[int, ...]]) -> dict[int, int]:
    """What a whole edge hour's row holds: the index of the one state that held all of it,
    NOTHING, or MIXED (then its pieces are read from the state changes).

    Valid for monitors whose last result came after the hour (`_Layout.edges_settled_after`);
    any piece of such an hour then counts in that one state (see `_edge_seconds`)."""
    states = {}
    for hour, row in rows.items():
        if sum(row) == 0:
            continue
        states[hour] = row.index(HOUR_S) if HOUR_S in row and sum(row) == HOUR_S else MIXED
    return states


def _edge_seconds(
    connection: Connection, monitor_id: int, edges: list[tuple[int, int, int]],
    rows: dict[int, tuple[int, ...]], held_until: int, totals: Totals,
) -> None:
    """Seconds of sub-hour edges held by rollups (see storage.rollup_reads._edge_seconds)."""
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


@dataclass(frozen=True, slots=True)
class _Block:
    """The kept past of the monitors of one read as arrays, one row per monitor in read order.

    Kept alongside the per-monitor cache, so a warm read does its arithmetic with a few numpy
    operations instead of a Python loop per monitor and window.
    """

    totals: np.ndarray  # (monitors, windows, 6) int64: `_Past.totals`
    edge_states: dict[int, np.ndarray]  # hour -> (monitors,) `_Past.edge_states`, NOTHING
    latency: dict[str, HistogramBlock]  # per window, the past part of its latency

    @classmethod
    def of(cls, pasts: list[_Past]) -> _Block:
        totals = np.array([[p.totals[name] for name in READ_MODEL_WINDOWS] for p in pasts],
                          np.int64).reshape(len(pasts), len(READ_MODEL_WINDOWS), 6)
        hours = {hour for p in pasts for hour in p.edge_rows}
        edge_states = {
            hour: np.array([p.edge_states.get(hour, NOTHING) for p in pasts], np.int64)
            for hour in hours}
        latency = {name: HistogramBlock.of([p.histograms[name] for p in pasts])
                   for name in READ_MODEL_WINDOWS}
        return cls(totals, edge_states, latency)


# By the monitors (id, created_at) of a read; emptied with the cache.
_blocks: dict[tuple, _Block] = {}
_KEPT_BLOCKS = 8  # distinct monitor lists per clock hour (the status page, the API, badges)


def _block(key: tuple, pasts: list[_Past]) -> _Block:
    with _lock:
        block = _blocks.get(key)
    if block is None:
        block = _Block.of(pasts)
        with _lock:
            if len(_blocks) >= _KEPT_BLOCKS:
                _blocks.clear()
            _blocks[key] = block
    return block


def _slow(ids: list[int], now: datetime, states: dict[int, str],
          full: bool = True) -> dict[int, StatusNumbers]:
    """The separate reads, for monitors (or moments) the cache cannot serve; without `full`
    only the uptime (no bars, no latency)."""
    if not ids:
        return {}
    uptime = uptime_by_window(ids, READ_MODEL_WINDOWS, now=now)
    if not full:
        return {m: StatusNumbers(states.get(m, NEW_STATE), uptime[m], [], {}) for m in ids}
    bars = daily_bars(ids, BAR_DAYS, now=now)
    latency = {name: latency_by_window(ids, name, now=now) for name in READ_MODEL_WINDOWS}
    return {
        m: StatusNumbers(states.get(m, NEW_STATE), uptime[m], bars[m],
                         {name: latency[name][m] for name in READ_MODEL_WINDOWS})
        for m in ids
    }


def status_read_model(
    monitor_ids: Sequence[int], now: datetime | None = None
) -> dict[int, StatusNumbers]:
    """Every given monitor's status page numbers; unknown ids are left out."""
    return _read_model(monitor_ids, now, full=True)


def uptime_read_model(
    monitor_ids: Sequence[int], now: datetime | None = None
) -> dict[int, dict[str, float | None]]:
    """Every given monitor's uptime per window, computed as status_read_model computes it,
    without the daily bars and latency (what the overview reads); unknown ids are left out."""
    return {m: numbers.uptime for m, numbers in _read_model(monitor_ids, now, full=False).items()}


def _read_model(
    monitor_ids: Sequence[int], now: datetime | None, full: bool
) -> dict[int, StatusNumbers]:
    global _cache_key
    now = _now(now)
    ids = list(dict.fromkeys(monitor_ids))
    if not ids:
        return {}
    zone = get_settings().zone
    engine = get_engine()
    layout = _layout(now, zone)
    with read_connection(engine) as connection:
        current = _current(connection, ids)
        ids = [m for m in ids if m in current]
        states = {m: facts.tail_state for m, (facts, _, _) in current.items()}
        if layout is None or any(
            f.last_check_at is not None and f.last_check_at > now for f, _, _ in current.values()
        ):
            return _slow(ids, now, states, full)
        midnight_s = epoch_seconds(layout.midnight)
        # Kept only for monitors whose past rows cannot change any more (see the docstring).
        keepable = [m for m in ids
                    if (last_result_s := current[m][2]) is None or last_result_s >= midnight_s]
        key = (str(engine.url), str(zone), layout.key)
        with _lock:
            if _cache_key != key:
                _cache.clear()
                _blocks.clear()
                _latency_kept.clear()
                _cache_key = key
            cached = {m: _cache.get((m, current[m][1])) for m in keepable}
        past = {m: p for m, p in cached.items() if p is not None}
        missing = [m for m, p in cached.items() if p is None]
        if missing:
            computed = _compute_past(connection, missing, layout,
                                     _kept_day_parts(connection, engine, missing, current,
                                                     layout, zone))
            past.update(computed)
            with _lock:
                if _cache_key == key:
                    _cache.update({(m, current[m][1]): p for m, p in computed.items()})
        today_rows = _day_rows(connection, list(past), layout.midnight, layout.end, zone,
                               with_histogram=full)
        answer = _slow([m for m in ids if m not in past], now, states, full)
        kept = [m for m in ids if m in past]
        rows = [today_rows.get(m, {}).get(layout.today) for m in kept]
        block = _block(tuple((m, current[m][1]) for m in kept), [past[m] for m in kept])
        last = [current[m][2] for m in kept]
        uptimes = _uptimes(connection, kept, block, [past[m] for m in kept],
                           [current[m][0] for m in kept], last, rows, layout, now)
    if not full:
        for index, monitor_id in enumerate(kept):
            answer[monitor_id] = StatusNumbers(states[monitor_id], uptimes[index], [], {})
        return {m: answer[m] for m in ids}
    latency = _latencies(kept, [past[m] for m in kept], block, rows)
    now_s = epoch_seconds(now)
    for index, monitor_id in enumerate(kept):
        bars = [*past[monitor_id].bars,
                _today_bar(rows[index], current[monitor_id][0].tail_state, last[index],
                           layout.today, midnight_s, now_s)]
        answer[monitor_id] = StatusNumbers(
            states[monitor_id], uptimes[index], bars, latency[index])
    return {m: answer[m] for m in ids}


# monitor id -> (the kept past, today's histogram, the latency figures made of them). Latency
# changes only with today's histogram (or a new past), unlike uptime, which moves with the clock:
# a read works out the percentiles of the monitors whose histogram changed only. Emptied with
# the cache; the figures are shared by the reads that get them (never changed in place).
_latency_kept: dict[int, tuple[_Past, bytes | None, dict[str, dict[str, float | None]]]] = {}


def _latencies(kept: list[int], pasts: list[_Past], block: _Block, rows: list[tuple | None]
               ) -> list[dict[str, dict[str, float | None]]]:
    """Each kept monitor's p50/p95/p99 per window: its past with today's daily row's histogram
    (every window ends with today's row, read whole)."""
    blobs = [bytes(r[6]) if r is not None and r[6] else None for r in rows]
    answer: list[dict[str, dict[str, float | None]] | None] = [None] * len(kept)
    again = []
    with _lock:
        for index, monitor_id in enumerate(kept):
            known = _latency_kept.get(monitor_id)
            if known is not None and known[0] is pasts[index] and known[1] == blobs[index]:
                answer[index] = known[2]
            else:
                again.append(index)
    if again:
        picked = np.array(again, np.intp)
        today = [decode_dense(blob) if (blob := blobs[i]) else None for i in again]
        windows = {
            name: HistogramBlock(past.counts[picked], past.lowest, past.low_ms[picked],
                                 past.high_ms[picked]).plus(today).quantiles(
                                     tuple(QUANTILES.values()))
            for name, past in block.latency.items()}
        made = {}
        for row, index in enumerate(again):
            figures = {name: dict(zip(QUANTILES, per_row[row], strict=True))
                       for name, per_row in windows.items()}
            answer[index] = figures
            made[kept[index]] = (pasts[index], blobs[index], figures)
        with _lock:
            _latency_kept.update(made)
    return [figures if figures is not None else {} for figures in answer]


def _kept_day_parts(
    connection: Connection, engine: Any, ids: list[int],
    current: dict[int, tuple[_Current, datetime, int | None]], layout: _Layout, zone: tzinfo,
) -> dict[int, _DayPart]:
    """The whole past days of `ids`: the kept ones of this day, the others read now."""
    global _day_parts_key
    key = (str(engine.url), str(zone), layout.day_key)
    with _lock:
        if _day_parts_key != key:
            _day_parts.clear()
            _day_parts_key = key
        parts = {m: part for m in ids if (part := _day_parts.get((m, current[m][1]))) is not None}
    missing = [m for m in ids if m not in parts]
    if missing:
        made = _compute_day_parts(connection, missing, layout, zone)
        parts.update(made)
        with _lock:
            if _day_parts_key == key:
                _day_parts.update({(m, current[m][1]): part for m, part in made.items()})
    return parts


def _uptimes(
    connection: Connection, kept: list[int], block: _Block, pasts: list[_Past],
    facts: list[_Current], last: list[int | None], rows: list[tuple | None], layout: _Layout,
    now: datetime,
) -> list[dict[str, float | None]]:
    """Uptime per window of each kept monitor: the past, today's row, the edges and the tail."""
    now_s = epoch_seconds(now)
    count = len(kept)
    totals = block.totals.copy()
    today = np.array([row[:6] if row is not None else (0,) * 6 for row in rows], np.int64)
    totals += today.reshape(count, 1, 6)
    settled_after = layout.edges_settled_after
    settled = np.array([s is not None and s > settled_after for s in last], bool)
    everyone = np.arange(count)
    for window, name in enumerate(READ_MODEL_WINDOWS):
        for hour, low, high in layout.edges[name]:
            states = block.edge_states.get(hour)
            if states is None:
                continue
            single = settled & (states >= 0)
            # numpy's stubs take no tuple of indexes here; numpy itself does (fancy indexing).
            np.add.at(totals, (everyone[single], window, states[single]),  # type: ignore[arg-type]
                      high - low)
            for index in np.flatnonzero(settled & (states == MIXED)).tolist():
                exact = _seconds_from_changes(connection, kept[index], low, high)
                totals[index, window, :4] += exact[:4]
    for index in np.flatnonzero(~settled).tolist():
        last_s = last[index]
        if last_s is None:
            continue  # never a result: no edges, no tail
        # Rare: an edge's hour is still open (zones off the whole hour).
        for window, name in enumerate(READ_MODEL_WINDOWS):
            sums = [0] * 6
            _edge_seconds(connection, kept[index], layout.edges[name], pasts[index].edge_rows,
                          last_s, sums)
            totals[index, window] += sums
    # The tail: from the last result to now, in the state it left (not counted when paused).
    tail_states = np.array([STATE_INDEX.get(f.tail_state, -1) if s is not None else -1
                            for f, s in zip(facts, last, strict=True)], np.int64)
    tailed = tail_states >= 0
    since = np.array([s if s is not None else now_s for s in last], np.int64)[tailed]
    for window, name in enumerate(READ_MODEL_WINDOWS):
        start = np.maximum(now_s - int(WINDOWS[name].total_seconds()), since)
        np.add.at(totals, (everyone[tailed], window, tail_states[tailed]),  # type: ignore[arg-type]
                  np.maximum(now_s - start, 0))
    observed = totals[:, :, 0] + totals[:, :, 1] + totals[:, :, 2]
    ratios = ((totals[:, :, 0] + totals[:, :, 1]) / np.maximum(observed, 1)).tolist()
    seen = (observed > 0).tolist()
    return [
        {name: ratio if ok else None
         for name, ratio, ok in zip(READ_MODEL_WINDOWS, ratio_row, seen_row, strict=True)}
        for ratio_row, seen_row in zip(ratios, seen, strict=True)
    ]


def _today_bar(row: tuple | None, tail_state: str, last_s: int | None, today: date,
               midnight_s: int, now_s: int) -> DayBar:
    """Today's bar: its daily row (read whole) and the time since the last result."""
    values = list(row[:5]) if row is not None else None
    tail_index = STATE_INDEX.get(tail_state)
    if last_s is not None and tail_index is not None and now_s > last_s:
        values = values or [0, 0, 0, 0, 0]
        values[tail_index] += now_s - max(last_s, midnight_s)
    return _bar(today, values)
