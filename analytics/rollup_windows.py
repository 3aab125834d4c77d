"""Answering a time window from rollups: which buckets count, and where each piece is read.

Windows and partial buckets: `uptime_from_rollups` and `percentiles_from_rollups` use only the
buckets lying wholly inside the window. `plan_window` cuts any window into whole local days
(daily rollups), whole UTC hours (hourly rollups) and sub-hour edges (raw results, while they are
retained). Where the raw results are gone, a caller snaps the window to the hour instead, so old
windows are exact to the hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from analytics.histogram import LatencyHistogram, merge_histograms
from analytics.rollup import Rollup
from analytics.uptime import HOUR_S, StateSeconds, bucket_bounds, epoch_seconds, from_epoch


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
    "WindowPlan",
    "histogram_from_rollups",
    "percentiles_from_rollups",
    "plan_window",
    "uptime_from_rollups",
]
