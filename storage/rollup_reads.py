"""A window read from rollups, for many monitors at once.

A window [start, end) is cut by `analytics.rollup_windows.plan_window` into whole local days
(daily rollups), whole UTC hours (hourly rollups) and sub-hour edges, and each source is read with
one query for all monitors:

- days and hours are summed in SQL;
- a sub-hour edge is read from its hour's rollup when that hour held one state throughout (the
  common case), and otherwise exactly from the monitor's state changes;
- the time after a monitor's last result, up to now, counts in its current state (rollups count a
  state's time only when the next result arrives); a paused monitor's tail is not observed.

When no monitor has a result after `end` (any window ending now), the hour and day holding `end`
are read whole from their rollups: they hold nothing past `end` yet.

Uptime is thus exact to the second: it equals the brute-force computation over raw results and
state changes (see README, "Uptime and percentiles"). Latency histograms are read for the same
spans (`_histograms`) and merged by the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    func,
    literal,
    select,
    union_all,
)

from analytics.rollup_windows import WindowPlan, plan_window
from analytics.uptime import COUNTED_STATES, HOUR_S, epoch_seconds, from_epoch, split_span
from storage.models import StateChange
from storage.tables import table_of, utc
from storage.window_basics import (
    ROLLUPS,
    STATE_INDEX,
    Totals,
    _Current,
    _effective_end,
    _zero,
    among,
)

CHANGES = table_of(StateChange)


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
