"""Uptime and latency percentiles of many monitors over rolling windows ending now (24h, 7d,
30d, 90d, 1y), for the read model and the API.

Both are read from rollups (storage/rollup_reads.py). Uptime is exact to the second; latency
percentiles come from merged histograms (nearest rank, within 1% of the sample at that rank, see
analytics/histogram.py), and count the whole first hour of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from analytics.histogram import LatencyHistogram
from analytics.histogram_blobs import merge_serialized
from analytics.rollup_windows import plan_window
from analytics.uptime import HOUR_S, epoch_seconds, from_epoch
from config.settings import get_settings
from storage.db import read_connection
from storage.rollup_reads import _histograms, _plan_spans, _window_totals
from storage.window_basics import (
    QUANTILES,
    _current,
    _effective_end,
    _now,
    _uptime,
    window_length,
)


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
