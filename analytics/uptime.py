"""Time-based uptime: how long a monitor spent in each state, over a window or per hour/day.

Definitions:
- A state holds from the result that entered it until the next state change; the last state
  holds until `now`.
- Observed time is time spent up, degraded or down. Maintenance is counted on its own and is
  excluded from both sides of the ratio. Paused, pending, unknown, and any time not covered by a
  segment (before the monitor existed) are not observed at all.
- uptime = (up + degraded) / observed; degraded time is also reported on its own.

Time is counted in whole seconds: every instant is floored to the second (since the Unix epoch)
before durations are taken, so pieces of a split segment add up exactly to the whole and hourly,
daily and window totals agree to the second.

Buckets: an hour is a UTC hour, which is also the local hour in every zone whose offset is a whole
number of hours. A day is a calendar day in the time zone given (zoneinfo), so it lasts 23 or 25
hours on DST change days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Literal

Period = Literal["hour", "day"]

OBSERVED_STATES = frozenset({"up", "degraded", "down"})
COUNTED_STATES = OBSERVED_STATES | {"maintenance"}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
HOUR_S = 3600


def epoch_seconds(at: datetime) -> int:
    """Whole seconds since the Unix epoch, floored; `at` must carry a time zone."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return (at - _EPOCH) // _SECOND


def from_epoch(seconds: int, tz: tzinfo = UTC) -> datetime:
    return datetime.fromtimestamp(seconds, tz)


@dataclass(frozen=True, slots=True)
class Segment:
    """`state` held from `start` (inclusive) to `end` (exclusive)."""

    start: datetime
    end: datetime
    state: str


@dataclass(frozen=True, slots=True)
class StateSeconds:
    """Seconds spent in each counted state; ratios are None when nothing was observed."""

    up_s: int = 0
    degraded_s: int = 0
    down_s: int = 0
    maintenance_s: int = 0

    @property
    def observed_s(self) -> int:
        return self.up_s + self.degraded_s + self.down_s

    @property
    def uptime(self) -> float | None:
        observed = self.observed_s
        return (self.up_s + self.degraded_s) / observed if observed else None

    @property
    def degraded_ratio(self) -> float | None:
        observed = self.observed_s
        return self.degraded_s / observed if observed else None

    def __add__(self, other: StateSeconds) -> StateSeconds:
        return StateSeconds(
            self.up_s + other.up_s,
            self.degraded_s + other.degraded_s,
            self.down_s + other.down_s,
            self.maintenance_s + other.maintenance_s,
        )

    def plus(self, state: str, seconds: int) -> StateSeconds:
        """These totals with `seconds` more in `state` (uncounted states change nothing)."""
        if state == "up":
            return StateSeconds(self.up_s + seconds, self.degraded_s, self.down_s,
                                self.maintenance_s)
        if state == "degraded":
            return StateSeconds(self.up_s, self.degraded_s + seconds, self.down_s,
                                self.maintenance_s)
        if state == "down":
            return StateSeconds(self.up_s, self.degraded_s, self.down_s + seconds,
                                self.maintenance_s)
        if state == "maintenance":
            return StateSeconds(self.up_s, self.degraded_s, self.down_s,
                                self.maintenance_s + seconds)
        return self


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    """One hour or day: `bucket_start` is a UTC time for hours, local midnight for days."""

    bucket_start: datetime
    bucket_end: datetime
    period: Period
    seconds: StateSeconds


def segments_from_results(
    results: Iterable[tuple[datetime, str]], now: datetime
) -> list[Segment]:
    """Turn time-ordered (time, state) results into segments; the last one ends at `now`.

    Results that repeat the current state extend it; zero-length segments are dropped.
    """
    segments: list[Segment] = []
    current: tuple[datetime, str] | None = None
    for at, state in results:
        if current is not None and at < current[0]:
            raise ValueError(f"results must be in time order: {at} comes after {current[0]}")
        if current is None or state != current[1]:
            if current is not None and at > current[0]:
                segments.append(Segment(current[0], at, current[1]))
            # A same-instant change supersedes the state entered at that instant.
            current = (at, state)
    if current is not None:
        if now < current[0]:
            raise ValueError(f"now ({now}) is before the last result ({current[0]})")
        if now > current[0]:
            segments.append(Segment(current[0], now, current[1]))
    return _merge_neighbours(segments)


def _merge_neighbours(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        last = merged[-1] if merged else None
        if last is not None and last.state == segment.state and last.end == segment.start:
            merged[-1] = Segment(last.start, segment.end, segment.state)
        else:
            merged.append(segment)
    return merged


def uptime_over(
    segments: Iterable[Segment], window_start: datetime, window_end: datetime
) -> StateSeconds:
    """Seconds per state within [window_start, window_end); segments must not overlap."""
    low, high = epoch_seconds(window_start), epoch_seconds(window_end)
    totals = StateSeconds()
    for segment in segments:
        if segment.state not in COUNTED_STATES:
            continue
        start = max(low, epoch_seconds(segment.start))
        end = min(high, epoch_seconds(segment.end))
        if end > start:
            totals = totals.plus(segment.state, end - start)
    return totals


def split_by_period(
    segments: Iterable[Segment], period: Period, tz: tzinfo = UTC
) -> list[PeriodTotals]:
    """Per-hour or per-day totals, oldest first; only buckets with counted time appear."""
    buckets: dict[int, tuple[int, StateSeconds]] = {}
    for segment in segments:
        if segment.state not in COUNTED_STATES:
            continue
        start, end = epoch_seconds(segment.start), epoch_seconds(segment.end)
        for bucket_start, bucket_end, seconds in split_span(start, end, period, tz):
            _, so_far = buckets.get(bucket_start, (bucket_end, StateSeconds()))
            buckets[bucket_start] = (bucket_end, so_far.plus(segment.state, seconds))
    label_tz = UTC if period == "hour" else tz
    return [
        PeriodTotals(from_epoch(start, label_tz), from_epoch(end, label_tz), period, seconds)
        for start, (end, seconds) in sorted(buckets.items())
    ]


def split_span(
    start: int, end: int, period: Period, tz: tzinfo = UTC
) -> list[tuple[int, int, int]]:
    """[start, end) in epoch seconds, cut at bucket edges: (bucket start, bucket end, seconds)."""
    pieces: list[tuple[int, int, int]] = []
    at = start
    while at < end:
        bucket_start, bucket_end = bucket_bounds(at, period, tz)
        piece_end = min(end, bucket_end)
        pieces.append((bucket_start, bucket_end, piece_end - at))
        at = piece_end
    return pieces


def bucket_bounds(at: int, period: Period, tz: tzinfo = UTC) -> tuple[int, int]:
    """The [start, end) in epoch seconds of the hour or local day holding the instant `at`."""
    if period == "hour":
        start = at - at % HOUR_S
        return start, start + HOUR_S
    if period == "day":
        # Results arrive in time order, so the day asked for is nearly always the last one.
        last = _last_day.get(tz)
        if last is not None and last[0] <= at < last[1]:
            return last
        day = datetime.fromtimestamp(at, tz).date()
        bounds = (_day_start(day, tz), _day_start(day + timedelta(days=1), tz))
        _last_day[tz] = bounds
        return bounds
    raise ValueError(f"unknown period {period!r}")


_last_day: dict[tzinfo, tuple[int, int]] = {}


@lru_cache(maxsize=8192)
def _day_start(day: date, tz: tzinfo) -> int:
    # Where midnight falls in a DST gap, fold=0 reads it with the offset in force before the
    # jump, which lands exactly on the jump: the day starts when its first existing second does.
    return epoch_seconds(datetime.combine(day, time(0), tzinfo=tz))


__all__ = [
    "COUNTED_STATES",
    "OBSERVED_STATES",
    "PeriodTotals",
    "Segment",
    "StateSeconds",
    "bucket_bounds",
    "epoch_seconds",
    "from_epoch",
    "segments_from_results",
    "split_by_period",
    "split_span",
    "uptime_over",
]
