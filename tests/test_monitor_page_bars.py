"""The monitor page's 90 daily bars: the status page's strip for one monitor, same read, same
colours (the uptime bands), a hover text per day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from streamlit.testing.v1 import AppTest

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from readmodel.board_payload import BAR_COLORS, CATEGORY_INDEX
from storage.monitors import MonitorView, create_monitor
from storage.results import record_result
from tests.test_monitor_page import _page
from ui.monitor_bars import JS as BARS_JS
from ui.monitor_bars import bars_payload
from ui.status_board import JS as BOARD_JS


def _category(digit: str) -> str:
    return list(BAR_COLORS)[int(digit)]


def _seed() -> tuple[MonitorView, datetime]:
    """Hourly checks for the last four days and today: up, up, down all day, up, up today."""
    monitor = create_monitor(parse_monitor_input(
        {"name": "API", "url": "http://127.0.0.1:9/health", "failures_before_down": 1}))
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
    at = midnight - timedelta(days=4)
    while at < now - timedelta(minutes=1):
        down = midnight - timedelta(days=2) <= at < midnight - timedelta(days=1)
        record_result(monitor.id, ProbeResult(
            "down" if down else "up", checked_at=at, latency_ms=None if down else 40.0,
            reason="connection refused" if down else None))
        at += timedelta(hours=1)
    return monitor, now


def test_the_bars_are_the_monitors_days_coloured_by_the_uptime_bands() -> None:
    monitor, now = _seed()
    row = bars_payload(monitor, now)
    assert len(row["days"]) == len(row["titles"]) == 90
    categories = [_category(d) for d in row["days"]]
    assert categories[:85] == ["no data"] * 85
    assert categories[85:] == ["≥ 99.9%", "≥ 99.9%", "< 90%", "≥ 99.9%", "≥ 99.9%"]
    down_day = (now - timedelta(days=2)).date().isoformat()
    assert row["titles"][87] == (f"{down_day} · uptime 0.00% · 1440 min down · "
                                 "incidents: API is down")
    # Resolved by the first check after midnight: the next day had no incident.
    assert row["titles"][88].endswith(" · uptime 100.00% · 0 min down · incidents: none")
    assert row["titles"][0].endswith("uptime no data · 0 min down · incidents: none")
    observed = (now - datetime.combine(now.date() - timedelta(days=4), time(), tzinfo=UTC))
    expected = 100 * (1 - 86_400 / observed.total_seconds())
    assert row["uptime"].endswith("% uptime")
    assert abs(float(row["uptime"].split("%")[0]) - expected) < 0.02


def test_a_monitor_without_checks_has_90_days_of_no_data() -> None:
    monitor = create_monitor(parse_monitor_input({"name": "New", "url": "http://127.0.0.1:9/"}))
    row = bars_payload(monitor, datetime.now(UTC))
    assert set(row["days"]) == {str(CATEGORY_INDEX["no data"])}
    assert row["uptime"] == "no data"


def _bars(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(element.proto.bytes) for element in at.get("bidi_component")
            if element.proto.component_name == "upwatch_monitor_bars"]


def test_the_page_draws_the_strip_with_the_status_pages_code() -> None:
    monitor, _ = _seed()
    at = _page(monitor.slug)
    [row] = _bars(at)
    assert _category(row["days"][87]) == "< 90%"
    assert "Daily uptime" in [s.value for s in at.subheader]
    # One drawing of the bars: the board's code and the monitor page's start with the same text.
    shared = BOARD_JS[:BOARD_JS.index("function dayGroup")]
    assert BARS_JS.startswith(shared) and "function strip(" in shared
