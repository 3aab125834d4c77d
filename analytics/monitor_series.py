"""Shaping one monitor's history for its charts and numbers (pure).

Raw latencies are bucketed into p50/p95/p99 per bucket; stored histograms give the same per hour
or day. (MTTA and MTTR are analytics/incident_times.py's, for the page as for the reports.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from analytics.histogram import LatencyHistogram
from analytics.histogram_blobs import merge_serialized

QUANTILES = (0.5, 0.95, 0.99)
PHASES = {"dns": "DNS", "connect": "connect", "tls": "TLS", "ttfb": "first byte",
          "transfer": "transfer"}

Point = tuple[datetime, float | None, float | None, float | None]


def _floor(moment: datetime, step: timedelta, origin: datetime) -> datetime:
    return origin + ((moment - origin) // step) * step


def bucket_raw(
    samples: Iterable[tuple[datetime, float | None]], start: datetime, step: timedelta
) -> list[Point]:
    """(bucket start, p50, p95, p99) per bucket of `step` holding latencies, oldest first."""
    buckets: dict[datetime, LatencyHistogram] = {}
    for at, latency in samples:
        if latency is None:
            continue
        key = _floor(at, step, start)
        buckets.setdefault(key, LatencyHistogram()).add(latency)
    return [(key, *_quantiles(buckets[key])) for key in sorted(buckets)]


def _quantiles(histogram: LatencyHistogram) -> tuple[float | None, float | None, float | None]:
    p50, p95, p99 = histogram.quantiles(QUANTILES)
    return p50, p95, p99


def histogram_points(buckets: Iterable[tuple[datetime, bytes]]) -> list[Point]:
    """(bucket start, p50, p95, p99) per stored histogram, empty ones left out."""
    points: list[Point] = []
    for start, blob in buckets:
        if not blob:
            continue
        histogram = merge_serialized([blob])
        if histogram.count:
            points.append((start, *_quantiles(histogram)))
    return points


# A raw chart's buckets: the smallest of these steps that keeps a window under MAX_BUCKETS, so
# a day of minute checks draws 288 five-minute points per line, not 1,440 (the browser's drawing
# time grows with the points; percentiles of one check per bucket say nothing more).
RAW_STEPS = tuple(timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60))
MAX_BUCKETS = 300


def raw_step(span: timedelta) -> timedelta:
    """The bucket of a raw-results chart: the smallest step in RAW_STEPS giving at most
    MAX_BUCKETS buckets (an hour for anything longer)."""
    return next((step for step in RAW_STEPS if span / step <= MAX_BUCKETS), RAW_STEPS[-1])


def bucket_phases(
    samples: Iterable[tuple[datetime, dict[str, float]]], start: datetime, step: timedelta
) -> list[tuple[datetime, str, float]]:
    """(bucket start, phase label, mean ms) per bucket of `step` and phase, oldest first: the
    stacked timing chart's points (a phase a check did not have is left out of its mean)."""
    sums: dict[tuple[datetime, str], list[float]] = {}
    for at, phases in samples:
        key = _floor(at, step, start)
        for phase, value in phases.items():
            if phase in PHASES:
                total = sums.setdefault((key, phase), [0.0, 0.0])
                total[0] += value
                total[1] += 1
    order = list(PHASES)
    return [(at, PHASES[phase], total / count) for (at, phase), (total, count) in
            sorted(sums.items(), key=lambda item: (item[0][0], order.index(item[0][1])))]


def rollup_period(span: timedelta) -> str | None:
    """None: raw results; "hour" for up to a week; "day" beyond."""
    if span <= timedelta(days=1):
        return None
    if span <= timedelta(days=7):
        return "hour"
    return "day"
