"""The public status page headless (AppTest): the response-time charts come only when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checks.result import ProbeResult
from storage.results import record_result
from tests.pages_support import page
from tests.status_support import monitor


def charts(at) -> list:  # type: ignore[no-untyped-def]
    return at.get("vega_lite_chart")


def test_response_times_appear_per_group_when_switched_on() -> None:
    shop = monitor("Shop", latency_ms=40.0)
    record_result(shop.id, ProbeResult("up", datetime.now(UTC) - timedelta(minutes=5),
                                       latency_ms=200.0))
    at = page("status.py").run()
    assert not at.exception
    assert len(charts(at)) == 1  # the day bars only
    at.toggle(key="response_times").set_value(True).run()
    assert not at.exception
    assert len(charts(at)) == 2
    latency = charts(at)[1].proto
    assert "p95" in latency.spec and "Shop" in str(latency.datasets) + latency.spec
