"""Window edges: a check made exactly at the end of [start, end) is outside the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.result import ProbeResult
from storage.window_report import window_report
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import brute_force_seconds, new_monitor, record

pytestmark = pytest.mark.usefixtures("backend")


def test_a_check_at_the_window_end_is_not_counted() -> None:
    monitor_id = new_monitor("Edge")
    at = datetime(2026, 3, 1, 22, 41, 14, tzinfo=UTC)
    record(monitor_id, [ProbeResult("up", at, latency_ms=1.0)], batch=1)
    start = at - timedelta(hours=1)
    report = window_report(monitor_id, start, at, now=at)
    assert (report.checks, report.p50) == (0, None)
    expected = brute_force_seconds(monitor_id, start, at, at)
    assert (report.up_s, report.down_s) == (expected.up_s, expected.down_s) == (0, 0)
    later = window_report(monitor_id, start, at + timedelta(seconds=1), now=at)
    assert (later.checks, later.p50) == (1, pytest.approx(1.0, rel=0.01))
