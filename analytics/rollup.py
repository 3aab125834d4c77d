"""Hourly and daily rollups: state seconds, check counts and a latency histogram per bucket.

A monitor's history is a time-ordered list of `TimelinePoint`s: every check result (with its
outcome and latency) and every state change that came without a check (paused, resumed,
maintenance start and end). Each point carries the monitor's state from that instant on.

Rollups are additive, so they are kept up to date by folding in increments: the point that
arrives accounts the time since the previous point in the previous point's state, and counts its
own check. `rebuild_rollups` computes the same table from scratch (segments split at bucket
edges); both give identical tables, to the second and to the histogram bucket.

Windows and partial buckets: `uptime_from_rollups` and `percentiles_from_rollups` use only the
buckets lying wholly inside the window. `plan_window` cuts any window into whole local days
(daily rollups), whole UTC hours (hourly rollups) and sub-hour edges (raw results, while they are
retained). Where the raw results are gone, a caller snaps the window to the hour instead, so old
windows are exact to the hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from analytics.histogram import LatencyHistogram, add_to_each, merge_histograms
from analytics.uptime import (
    COUNTED_STATES,
    HOUR_S,
    Period,
    StateSeconds,
    bucket_bounds,
    epoch_seconds,
    from_epoch,
    segments_from_results,
    split_by_period,
    split_span,
)

PERIODS: tuple[Period, ...] = ("hour", "day")
RollupKey = tuple[Period, datetime]
SUCCESS_OUTCOMES = frozenset({"up", "degraded"})


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """The monitor is in `state` from `at` on; `outcome` is None for a change without a check."""

    at: datetime
    state: str
    outcome: str | None = None
    latency_ms: float | None = None


@dataclass(slots=True)
class Rollup:
    """One hour (UTC) or one local day of a monitor's history.

    `bucket_start`/`bucket_end` are UTC times for hours and local times (in the rollup's time
    zone) for days, so `bucket_start.date()` of a daily rollup is its calendar day. A bucket
    exists only when something was counted in it.
    """

    bucket_start: datetime
    bucket_end: datetime
    period: Period
    up_s: int = 0
    degraded_s: int = 0
    down_s: int = 0
    maintenance_s: int = 0
    checks: int = 0
    failures: int = 0
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)

    @property
    def key(self) -> RollupKey:
        return (self.period, self.bucket_start)

    @property
    def observed_s(self) -> int:
        return self.up_s + self.degraded_s + self.down_s

    @property
    def min_ms(self) -> float | None:
        return self.histogram.min_ms

    @property
    def max_ms(self) -> float | None:
        return self.histogram.max_ms

    @property
    def seconds(self) -> StateSeconds:
        return StateSeconds(self.up_s, self.degraded_s, self.down_s, self.maintenance_s)

    def add_seconds(self, state: str, seconds: int) -> None:
        if state == "up":
            self.up_s += seconds
        elif state == "degraded":
            self.degraded_s += seconds
        elif state == "down":
            self.down_s += seconds
        elif state == "maintenance":
            self.maintenance_s += seconds

    def add_check(self, outcome: str, latency_ms: float | None) -> None:
        self.checks += 1
        if outcome == "down":
            self.failures += 1
        elif outcome in SUCCESS_OUTCOMES and latency_ms is not None:
            # Percentiles describe successful checks: a timeout's "latency" is the timeout.
            self.histogram.add(latency_ms)

    def merge(self, other: Rollup) -> None:
        """Add another piece of the same bucket (an increment, or a second flush) into this one."""
        if other.key != self.key:
            raise ValueError(f"cannot merge rollup {other.key} into {self.key}")
        self.up_s += other.up_s
        self.degraded_s += other.degraded_s
        self.down_s += other.down_s
        self.maintenance_s += other.maintenance_s
        self.checks += other.checks
        self.failures += other.failures
        self.histogram.merge(other.histogram)


RollupTable = dict[RollupKey, Rollup]


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


def _inside_window(
    rollups: Iterable[Rollup], window_start: datetime, window_end: datetime
) -> Iterable[Rollup]:
    periods: set[str] = set()
    for rollup in rollups:
        periods.add(rollup.period)
        if len(periods) > 1:
            # Hours and days of one stretch would count it twice.
            raise ValueError("give rollups of one period at a time (see plan_window)")
        if window_start <= rollup.bucket_start and rollup.bucket_end <= window_end:
            yield rollup


def uptime_from_rollups(
    rollups: Iterable[Rollup], window_start: datetime, window_end: datetime
) -> StateSeconds:
    """State seconds of the rollups lying wholly inside the window (see `plan_window`)."""
    totals = StateSeconds()
    for rollup in _inside_window(rollups, window_start, window_end):
        totals = totals + rollup.seconds
    return totals


def histogram_from_rollups(
    rollups: Iterable[Rollup], window_start: datetime, window_end: datetime
) -> LatencyHistogram:
    return merge_histograms(r.histogram for r in _inside_window(rollups, window_start, window_end))


def percentiles_from_rollups(
    rollups: Iterable[Rollup],
    window_start: datetime,
    window_end: datetime,
    qs: Sequence[float] = (0.5, 0.95, 0.99),
) -> list[float | None]:
    """Latency quantiles (nearest rank, within 1%) of successful checks in the whole buckets."""
    return histogram_from_rollups(rollups, window_start, window_end).quantiles(qs)


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """A window cut into pieces each answered by one source: [start, end) ranges."""

    days: list[tuple[datetime, datetime]]
    hours: list[tuple[datetime, datetime]]
    raw: list[tuple[datetime, datetime]]


def plan_window(window_start: datetime, window_end: datetime, tz: tzinfo) -> WindowPlan:
    """Cut [window_start, window_end) into whole local days, whole UTC hours and raw edges."""
    low, high = epoch_seconds(window_start), epoch_seconds(window_end)
    days: list[tuple[int, int]] = []
    rest = [(low, high)]
    if high > low:
        day_start, day_end = bucket_bounds(low, "day", tz)
        first_day = low if day_start == low else day_end
        last_day = bucket_bounds(high, "day", tz)[0]
        if first_day < last_day:
            days = [(first_day, last_day)]
            rest = [(low, first_day), (last_day, high)]
    hours: list[tuple[int, int]] = []
    raw: list[tuple[int, int]] = []
    for start, end in rest:
        if end <= start:
            continue
        first_hour = -(-start // HOUR_S) * HOUR_S
        last_hour = end // HOUR_S * HOUR_S
        if first_hour < last_hour:
            hours.append((first_hour, last_hour))
            raw += [(start, first_hour), (last_hour, end)]
        else:
            raw.append((start, end))
    return WindowPlan(_as_times(days, tz), _as_times(hours, UTC), _as_times(raw, UTC))


def _as_times(ranges: list[tuple[int, int]], tz: tzinfo) -> list[tuple[datetime, datetime]]:
    return [(from_epoch(a, tz), from_epoch(b, tz)) for a, b in ranges if b > a]


__all__ = [
    "PERIODS",
    "Rollup",
    "RollupFolder",
    "RollupKey",
    "RollupTable",
    "TimelinePoint",
    "WindowPlan",
    "apply_increments",
    "check_increments",
    "histogram_from_rollups",
    "percentiles_from_rollups",
    "plan_window",
    "point_increments",
    "rebuild_rollups",
    "time_increments",
    "uptime_from_rollups",
]
