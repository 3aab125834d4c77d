"""Uptime, percentiles and daily bars from rollups equal the definition over raw rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.decide import Thresholds
from domain.result import ProbeResult
from storage.daily_bars import daily_bars
from storage.window_basics import WINDOWS
from storage.window_reads import latency_by_window, uptime_by_window
from storage.window_report import window_report
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import (
    brute_force_seconds,
    exact_quantile,
    new_monitor,
    record,
    set_paused,
)

# Every test here runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")

NOW = datetime(2026, 3, 10, 12, 17, 30, tzinfo=UTC)


def every_minute(start: datetime, minutes: int, outcome: str = "up", latency: float = 100.0):
    return [ProbeResult(outcome, start + timedelta(minutes=i), latency_ms=latency)  # type: ignore[arg-type]
            for i in range(minutes)]


def test_uptime_over_rolling_windows() -> None:
    web, silent = new_monitor("Web"), new_monitor("Silent")
    start = NOW - timedelta(days=3, minutes=7)
    history = every_minute(start, 3 * 24 * 60)
    # An outage of 90 minutes, 30 hours ago, straddling an hour edge.
    outage_at = NOW - timedelta(hours=30, minutes=13)
    history = [
        ProbeResult("down", r.checked_at, reason="HTTP 503")
        if outage_at <= r.checked_at < outage_at + timedelta(minutes=90) else r
        for r in history
    ]
    record(web, history, batch=500)
    uptime = uptime_by_window([web, silent], ["24h", "7d"], now=NOW)
    assert uptime[silent] == {"24h": None, "7d": None}
    for name in ("24h", "7d"):
        expected = brute_force_seconds(web, NOW - WINDOWS[name], NOW, NOW)
        assert uptime[web][name] == expected.uptime
    assert uptime[web]["24h"] == 1.0
    assert uptime[web]["7d"] == pytest.approx(1 - 90 / (3 * 24 * 60 - 7 + 7), abs=1e-3)


def test_time_after_the_last_result_counts_in_the_current_state() -> None:
    web = new_monitor("Web")
    record(web, every_minute(NOW - timedelta(hours=2), 60))
    record(web, [ProbeResult("down", NOW - timedelta(hours=1), reason="timed out")])
    # Down for the last hour without another result: 50% over the two hours observed.
    assert uptime_by_window([web], ["24h"], now=NOW)[web]["24h"] == pytest.approx(0.5)
    set_paused(web, True)
    assert uptime_by_window([web], ["24h"], now=NOW)[web]["24h"] == 1.0


def test_latency_percentiles_of_successful_checks() -> None:
    web = new_monitor("Web")
    history = [
        ProbeResult("up", NOW - timedelta(minutes=i), latency_ms=float(i % 200 + 1))
        for i in range(2 * 24 * 60, 1, -1)
    ]
    history.append(ProbeResult("down", NOW - timedelta(minutes=1), latency_ms=9999.0))
    record(web, history, batch=500)
    got = latency_by_window([web], "7d", now=NOW)[web]
    samples = [r.latency_ms for r in history if r.outcome == "up"]
    for key, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        assert got[key] == pytest.approx(exact_quantile(samples, q), rel=0.01)
    assert latency_by_window([new_monitor("Other")], "24h", now=NOW) == {
        2: {"p50": None, "p95": None, "p99": None}
    }


def test_daily_bars_cover_calendar_days_oldest_first() -> None:
    web = new_monitor("Web")
    record(web, every_minute(NOW - timedelta(days=1, hours=12, minutes=17, seconds=30), 60))
    record(web, [ProbeResult("down", NOW - timedelta(hours=2), reason="refused")])
    bars = daily_bars([web], days=5, now=NOW)[web]
    assert [b.day for b in bars] == [date(2026, 3, d) for d in range(6, 11)]
    assert [b.uptime for b in bars[:3]] == [None, None, None]
    yesterday, today = bars[3], bars[4]
    # Up from the first result until the failure (time-based), then down until now.
    assert (yesterday.up_s, yesterday.checks, yesterday.uptime) == (86400, 60, 1.0)
    assert today.down_s == 2 * 3600 and today.downtime_minutes == 120
    assert today.up_s == 10 * 3600 + 17 * 60 + 30 and today.checks == 1
    assert today.uptime == pytest.approx(today.up_s / (today.up_s + 7200))


def test_window_report_over_a_date_range() -> None:
    web = new_monitor("Web")
    history = every_minute(datetime(2026, 3, 1, tzinfo=UTC), 3 * 24 * 60)
    history[100] = ProbeResult("down", history[100].checked_at, reason="HTTP 500")
    history[101] = ProbeResult("degraded", history[101].checked_at, latency_ms=300.0)
    record(web, history, batch=1000)
    start, end = datetime(2026, 3, 1, 1, 30, tzinfo=UTC), datetime(2026, 3, 3, 0, 10, tzinfo=UTC)
    report = window_report(web, start, end, now=NOW)
    expected = brute_force_seconds(web, start, end, NOW)
    assert (report.up_s, report.degraded_s, report.down_s) == (
        expected.up_s, expected.degraded_s, expected.down_s)
    assert report.downtime_minutes == 1 and report.failures == 1
    assert report.checks == sum(1 for r in history if start <= r.checked_at < end)
    assert report.p99 == pytest.approx(100.0, rel=0.01)


def test_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of 24h, 7d"):
        uptime_by_window([1], ["2w"], now=NOW)


# Random histories: gaps between results, outcomes, latencies, confirmation thresholds.
step = st.tuples(
    st.integers(min_value=1, max_value=5400),
    st.sampled_from(["up", "up", "up", "degraded", "down"]),
    st.floats(min_value=0.5, max_value=5000, allow_nan=False),
)


# Each example records a new monitor, so sharing the database between examples is safe.
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(step, min_size=1, max_size=60),
    failures_before_down=st.integers(min_value=1, max_value=3),
    batch=st.integers(min_value=1, max_value=20),
    tail_s=st.integers(min_value=0, max_value=7200),
    window=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    paused=st.booleans(),
)
def test_random_histories_match_the_brute_force_definition(
    steps, failures_before_down, batch, tail_s, window, paused
) -> None:
    monitor_id = new_monitor(f"m{datetime.now().timestamp()}")
    at, results = datetime(2026, 3, 1, 22, 41, 13, tzinfo=UTC), []
    for gap, outcome, latency in steps:
        at += timedelta(seconds=gap)
        results.append(ProbeResult(outcome, at, latency_ms=round(latency, 3)))
    record(monitor_id, results, batch=batch, limits=Thresholds(failures_before_down, 1))
    set_paused(monitor_id, paused)
    now = results[-1].checked_at + timedelta(seconds=tail_s)
    first = results[0].checked_at - timedelta(hours=1)
    span = (now - first).total_seconds()
    low, high = sorted(window)
    start = first + timedelta(seconds=int(low * span))
    end = first + timedelta(seconds=int(high * span) + 1)
    report = window_report(monitor_id, start, end, now=now)
    expected = brute_force_seconds(monitor_id, start, end, now)
    assert (report.up_s, report.degraded_s, report.down_s, report.maintenance_s) == (
        expected.up_s, expected.degraded_s, expected.down_s, expected.maintenance_s)
    inside = [r for r in results if start <= r.checked_at < end]
    assert report.checks == len(inside)
    samples = [r.latency_ms for r in inside if r.outcome != "down"]
    for got, q in ((report.p50, 0.5), (report.p95, 0.95), (report.p99, 0.99)):
        want = exact_quantile(samples, q)
        assert (got is None) == (want is None)
        if want is not None:
            assert got == pytest.approx(want, rel=0.01)
    rolling = uptime_by_window([monitor_id], ["24h"], now=now)[monitor_id]["24h"]
    assert rolling == brute_force_seconds(monitor_id, now - timedelta(hours=24), now, now).uptime
