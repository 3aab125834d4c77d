"""Hourly and daily rollups: state seconds, check counts and a latency histogram per bucket.

A monitor's history is a time-ordered list of `TimelinePoint`s: every check result (with its
outcome and latency) and every state change that came without a check (paused, resumed,
maintenance start and end). Each point carries the monitor's state from that instant on.
`analytics.rollup_folding` turns points into rollups; `analytics.rollup_windows` answers
windows from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from analytics.histogram import LatencyHistogram
from analytics.uptime import Period, StateSeconds

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


__all__ = [
    "PERIODS",
    "SUCCESS_OUTCOMES",
    "Rollup",
    "RollupKey",
    "RollupTable",
    "TimelinePoint",
]
