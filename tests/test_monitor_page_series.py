"""The monitor page's pure parts: percentiles per bucket, MTTA / MTTR, the window rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.monitor_series import (
    MAX_BUCKETS,
    bucket_phases,
    bucket_raw,
    raw_step,
    rollup_period,
)
from ui.monitor_window import window_from

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_raw_latencies_are_bucketed_to_percentiles_and_failures_left_out() -> None:
    start = NOW - timedelta(minutes=2)
    samples = [(start + timedelta(seconds=s), ms) for s, ms in
               ((0, 10.0), (20, 20.0), (40, None), (70, 50.0))]
    points = bucket_raw(samples, start, timedelta(minutes=1))
    assert [p[0] for p in points] == [start, start + timedelta(minutes=1)]
    assert points[0][1] == pytest.approx(10.0, rel=0.05)
    assert points[0][3] == pytest.approx(20.0, rel=0.05)
    assert points[1][1:] == pytest.approx((50.0, 50.0, 50.0), rel=0.05)


@pytest.mark.parametrize(("span", "period"), [
    (timedelta(hours=1), None), (timedelta(days=1), None), (timedelta(days=7), "hour"),
    (timedelta(days=30), "day"), (timedelta(days=365), "day"),
])
def test_short_windows_read_raw_results_a_week_hours_and_longer_days(span, period) -> None:
    assert rollup_period(span) == period


def test_custom_ranges_are_inclusive_days_and_a_reversed_one_is_refused() -> None:
    window = window_from("custom", date(2026, 3, 1), date(2026, 3, 2), NOW)
    assert (window.start, window.end) == (datetime(2026, 3, 1, tzinfo=UTC),
                                          datetime(2026, 3, 3, tzinfo=UTC))
    assert "before it starts" in window_from("custom", date(2026, 3, 2), date(2026, 3, 1), NOW)
    assert "future" in window_from("custom", date(2026, 4, 1), date(2026, 4, 2), NOW)
    assert "both days" in window_from("custom", None, date(2026, 4, 2), NOW)
    assert window_from("7d", None, None, NOW).start == NOW - timedelta(days=7)


@pytest.mark.parametrize(("span", "minutes"), [
    (timedelta(hours=1), 1), (timedelta(hours=5), 1), (timedelta(hours=6), 2),
    (timedelta(hours=24), 5), (timedelta(days=3), 15), (timedelta(days=30), 60),
])
def test_a_raw_chart_keeps_few_enough_buckets_with_the_finest_step(span, minutes) -> None:
    step = raw_step(span)
    assert step == timedelta(minutes=minutes)
    assert span / step <= MAX_BUCKETS or minutes == 60


def test_phases_are_averaged_per_bucket_in_the_order_they_happen() -> None:
    start = NOW - timedelta(minutes=10)
    samples = [(start, {"dns": 2.0, "connect": 4.0, "unknown": 9.0}),
               (start + timedelta(minutes=2), {"dns": 4.0, "ttfb": 30.0}),
               (start + timedelta(minutes=6), {"connect": 1.0})]
    points = bucket_phases(samples, start, timedelta(minutes=5))
    assert points == [(start, "DNS", 3.0), (start, "connect", 4.0),
                      (start, "first byte", 30.0),
                      (start + timedelta(minutes=5), "connect", 1.0)]
