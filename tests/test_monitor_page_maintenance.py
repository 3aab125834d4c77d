"""Maintenance on the monitor page: one-off windows and every occurrence of a recurring one
inside the chosen window are shaded on the latency chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.db import session_scope
from storage.models import MaintenanceWindow, Monitor
from storage.monitor_history import maintenance_between
from storage.monitors import MonitorView, create_monitor, get_monitor
from storage.results import record_result
from tests.test_monitor_page import _page

START = datetime(2026, 3, 1, tzinfo=UTC)  # a Sunday
END = START + timedelta(days=28)


def _create(name: str, group: str | None = None) -> MonitorView:
    monitor = create_monitor(parse_monitor_input({"name": name, "url": "http://127.0.0.1:9/"}))
    if group is not None:
        with session_scope() as session:
            row = session.get(Monitor, monitor.id)
            assert row is not None
            row.group_name = group
    view = get_monitor(monitor.slug)
    assert view is not None
    return view


def _window(**fields: Any) -> None:
    with session_scope() as session:
        session.add(MaintenanceWindow(**fields))


def test_every_occurrence_of_a_recurring_window_in_the_range_is_listed() -> None:
    api = _create("API", group="Backend")
    other = _create("Web")
    _window(title="Weekly reboot", monitor_id=api.id, cron="0 3 * * 0", timezone="UTC",
            duration_minutes=30)
    _window(title="Nightly backup", group_name="Backend", cron="0 1 * * *", timezone="UTC",
            duration_minutes=15, starts_at=START + timedelta(days=20))  # its first day
    _window(title="Not ours", monitor_id=other.id, cron="0 4 * * *", duration_minutes=60)
    _window(title="DB upgrade", starts_at=START + timedelta(days=2, hours=10),
            ends_at=START + timedelta(days=2, hours=12))
    _window(title="Long ago", starts_at=START - timedelta(days=9),
            ends_at=START - timedelta(days=8))
    found = maintenance_between(api.id, api.group_name, START, END)
    weekly = [m for m in found if m.title == "Weekly reboot"]
    assert [m.starts_at for m in weekly] == [START + timedelta(days=7 * n, hours=3)
                                             for n in range(4)]
    assert all(m.ends_at - m.starts_at == timedelta(minutes=30) for m in weekly)
    nightly = [m.starts_at for m in found if m.title == "Nightly backup"]
    assert nightly == [START + timedelta(days=d, hours=1) for d in range(20, 28)]
    assert [m.title for m in found].count("DB upgrade") == 1
    assert {m.title for m in found} == {"Weekly reboot", "Nightly backup", "DB upgrade"}
    assert [m.starts_at for m in found] == sorted(m.starts_at for m in found)


def test_an_occurrence_running_when_the_range_starts_is_included() -> None:
    api = _create("API")
    _window(title="Daily", monitor_id=api.id, cron="0 23 * * *", duration_minutes=120)
    found = maintenance_between(api.id, None, START, START + timedelta(hours=2))
    assert [(m.starts_at, m.ends_at) for m in found] == [
        (START - timedelta(hours=1), START + timedelta(hours=1))]


def _maintenance_rects(at: AppTest) -> list[dict[str, Any]]:
    """The rows of the latency chart's maintenance layer (the one whose tooltip says so)."""
    chart = at.get("vega_lite_chart")[0]
    spec = json.loads(chart.proto.spec)
    layer = next(layer for layer in spec["layer"]
                 if layer.get("mark", {}).get("type") == "rect")
    name = layer["data"]["name"]
    dataset = next(d for d in chart.proto.datasets if d.name == name)
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()


def test_the_latency_chart_shades_each_daily_occurrence_of_the_week() -> None:
    api = _create("API")
    now = datetime.now(UTC)
    for hours in range(0, 24 * 7, 6):
        record_result(api.id, ProbeResult("up", checked_at=now - timedelta(hours=hours),
                                          latency_ms=50.0))
    _window(title="Nightly backup", monitor_id=api.id, cron="30 2 * * *", duration_minutes=20)
    rects = _maintenance_rects(_page(api.slug, window="7d"))
    assert len(rects) in (7, 8)  # the week holds 7 or 8 starts at 02:30, by the time of day
    assert {r["title"] for r in rects} == {"Nightly backup"}
