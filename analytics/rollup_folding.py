"""Folding a monitor's timeline into hourly and daily rollups, point by point or from scratch.

Rollups are additive, so they are kept up to date by folding in increments: the point that
arrives accounts the time since the previous point in the previous point's state, and counts its
own check. `rebuild_rollups` computes the same table from scratch (segments split at bucket
edges); both give identical tables, to the second and to the histogram bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from analytics.histogram import add_to_each
from analytics.rollup import (
    PERIODS,
    SUCCESS_OUTCOMES,
    Rollup,
    RollupKey,
    RollupTable,
    TimelinePoint,
)
from analytics.uptime import (
    COUNTED_STATES,
    Period,
    bucket_bounds,
    epoch_seconds,
    from_epoch,
    segments_from_results,
    split_by_period,
    split_span,
)


def _empty_rollup(period: Period, start: int, end: int, tz: tzinfo) -> Rollup:
    return Rollup(_label(start, period, tz), _label(end, period, tz), period)


def time_increments(state: str, start: datetime, end: datetime, tz: tzinfo) -> list[Rollup]:
    """Hourly and daily increments for `state` holding over [start, end)."""
    if state not in COUNTED_STATES:
        return []
    low, high = epoch_seconds(start), epoch_seconds(end)
    increments = []
    for period in PERIODS:
        for bucket_start, bucket_end, seconds in split_span(low, high, period, tz):
            rollup = _empty_rollup(period, bucket_start, bucket_end, tz)
            rollup.add_seconds(state, seconds)
            increments.append(rollup)
    return increments


def check_increments(
    at: datetime, outcome: str, latency_ms: float | None, tz: tzinfo
) -> list[Rollup]:
    """The hourly and daily increments counting one check made at `at`."""
    instant = epoch_seconds(at)
    increments = []
    for period in PERIODS:
        rollup = _empty_rollup(period, *bucket_bounds(instant, period, tz), tz)
        rollup.add_check(outcome, latency_ms)
        increments.append(rollup)
    return increments


def point_increments(
    previous: TimelinePoint | None, point: TimelinePoint, tz: tzinfo
) -> list[Rollup]:
    """What `point` adds: time since `previous` in the previous state, plus its own check."""
    increments = []
    if previous is not None:
        if point.at < previous.at:
            raise ValueError(f"points must be in time order: {point.at} is before {previous.at}")
        increments += time_increments(previous.state, previous.at, point.at, tz)
    if point.outcome is not None:
        increments += check_increments(point.at, point.outcome, point.latency_ms, tz)
    return increments


def apply_increments(table: RollupTable, increments: Iterable[Rollup]) -> list[RollupKey]:
    """Merge increments into a table (hour or day rows); returns the keys that changed."""
    touched: dict[RollupKey, None] = {}
    for increment in increments:
        key = increment.key
        current = table.get(key)
        if current is None:
            table[key] = increment
        else:
            current.merge(increment)
        touched[key] = None
    return list(touched)


class RollupFolder:
    """Folds one monitor's points, in time order, into a rollup table.

    Each point adds the time since the previous point, in the previous point's state, and its
    own check (the same table as `apply_increments` of `point_increments`, point by point).
    Consecutive checks nearly always fall in the hour and day of the previous one, so those
    buckets are remembered with their bounds instead of being looked up for every point.

    This runs once per recorded result: `add_point` takes a point's fields without building a
    `TimelinePoint`, and a check's latency is bucketed once for its hour and its day.
    """

    __slots__ = ("_day", "_hour", "_previous_s", "previous_at", "previous_state", "table", "tz")

    def __init__(
        self, table: RollupTable, tz: tzinfo, previous: TimelinePoint | None = None
    ) -> None:
        self.table = table
        self.tz = tz
        self.previous_at: datetime | None = previous.at if previous is not None else None
        self.previous_state = previous.state if previous is not None else ""
        self._previous_s = epoch_seconds(previous.at) if previous is not None else 0
        # (start, end, rollup) of the last hour and day written to
        self._hour: tuple[int, int, Rollup] = (0, 0, _NO_BUCKET)
        self._day: tuple[int, int, Rollup] = (0, 0, _NO_BUCKET)

    def forget_previous(self) -> None:
        """Count the next point's check but no time before it (a clock step backwards)."""
        self.previous_at = None

    def add(self, point: TimelinePoint) -> None:
        self.add_point(point.at, point.state, point.outcome, point.latency_ms)

    def add_point(
        self, at: datetime, state: str, outcome: str | None, latency_ms: float | None
    ) -> None:
        at_s = epoch_seconds(at)
        if self.previous_at is not None:
            if at < self.previous_at:
                raise ValueError(
                    f"points must be in time order: {at} is before {self.previous_at}")
            held = self.previous_state
            if held in COUNTED_STATES and at_s > self._previous_s:
                low = self._previous_s
                hour, day = self._hour, self._day
                if hour[0] <= low and at_s <= hour[1]:
                    hour[2].add_seconds(held, at_s - low)
                else:
                    self._add_seconds("hour", held, low, at_s)
                if day[0] <= low and at_s <= day[1]:
                    day[2].add_seconds(held, at_s - low)
                else:
                    self._add_seconds("day", held, low, at_s)
        if outcome is not None:
            hour, day = self._hour, self._day
            hourly = hour[2] if hour[0] <= at_s < hour[1] else self._bucket("hour", at_s)
            daily = day[2] if day[0] <= at_s < day[1] else self._bucket("day", at_s)
            hourly.checks += 1
            daily.checks += 1
            if outcome == "down":
                hourly.failures += 1
                daily.failures += 1
            elif outcome in SUCCESS_OUTCOMES and latency_ms is not None:
                add_to_each((hourly.histogram, daily.histogram), latency_ms)
        self.previous_at = at
        self.previous_state = state
        self._previous_s = at_s

    def _bucket(self, period: Period, instant: int) -> Rollup:
        start, end = bucket_bounds(instant, period, self.tz)
        rollup = _rollup_in(self.table, period, start, end, self.tz)
        if period == "hour":
            self._hour = (start, end, rollup)
        else:
            self._day = (start, end, rollup)
        return rollup

    def _add_seconds(self, period: Period, state: str, low: int, high: int) -> None:
        for start, end, seconds in split_span(low, high, period, self.tz):
            _rollup_in(self.table, period, start, end, self.tz).add_seconds(state, seconds)


_NO_BUCKET = Rollup(datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), "hour")


def _rollup_in(table: RollupTable, period: Period, start: int, end: int, tz: tzinfo) -> Rollup:
    key = (period, _label(start, period, tz))
    rollup = table.get(key)
    if rollup is None:
        rollup = table[key] = Rollup(key[1], _label(end, period, tz), period)
    return rollup


@lru_cache(maxsize=4096)
def _label(seconds: int, period: Period, tz: tzinfo) -> datetime:
    return from_epoch(seconds, UTC if period == "hour" else tz)


def rebuild_rollups(
    points: Sequence[TimelinePoint], tz: tzinfo, until: datetime | None = None
) -> RollupTable:
    """Rollups computed from scratch; time is accounted up to `until` (default: the last point).

    Equal to folding the points one by one (and, with `until`, the time after the last point).
    """
    table: RollupTable = {}
    if not points:
        return table
    end = until if until is not None else points[-1].at
    segments = segments_from_results(((p.at, p.state) for p in points), end)
    for period in PERIODS:
        for totals in split_by_period(segments, period, tz):
            seconds = totals.seconds
            table[(period, totals.bucket_start)] = Rollup(
                totals.bucket_start, totals.bucket_end, period,
                seconds.up_s, seconds.degraded_s, seconds.down_s, seconds.maintenance_s,
            )
    for point in points:
        if point.outcome is not None:
            apply_increments(table, check_increments(point.at, point.outcome, point.latency_ms, tz))
    return table


__all__ = [
    "RollupFolder",
    "apply_increments",
    "check_increments",
    "point_increments",
    "rebuild_rollups",
    "time_increments",
]
