"""The overview's rows and tiles: order, filters, numbers from real recorded results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, update

from analytics.histogram import LatencyHistogram
from domain.monitor_input import parse_monitor_input
from domain.overview import (
    NO_GROUP,
    OverviewFilter,
    OverviewRow,
    filtered,
    group_choices,
    in_attention_order,
    tag_choices,
)
from domain.result import ProbeResult
from storage.db import get_engine
from storage.incidents import create_incident
from storage.models import Monitor
from storage.monitors import MonitorView, create_monitor, set_paused
from storage.overview import overview_rows, overview_tiles
from storage.results import record_result
from storage.status_numbers import status_read_model


def _row(name: str, state: str = "up", **fields: Any) -> OverviewRow:
    values: dict[str, Any] = dict(
        slug=name.lower(), name=name, state=state, group=None, tags=(), url=f"http://{name}",
        public=False, uptime_24h=None, uptime_30d=None, p95_24h_ms=None,
        last_latency_ms=None, cert_days_left=None, last_check_at=None, reason=None)
    values.update(fields)
    return OverviewRow(**values)


def test_down_then_degraded_then_everything_else_by_name() -> None:
    rows = [_row("beta"), _row("Alpha", "paused"), _row("zeta", "down"),
            _row("gamma", "degraded"), _row("alpha-2", "down"), _row("delta", "pending")]
    assert [r.name for r in in_attention_order(rows)] == [
        "alpha-2", "zeta", "gamma", "Alpha", "beta", "delta"]


def test_filters_combine_and_an_empty_filter_keeps_everything() -> None:
    rows = [
        _row("Checkout", "down", group="Shop", tags=("team-pay",), public=True,
             url="https://shop.example/checkout"),
        _row("Search", "up", group="Shop", tags=("team-find",), url="https://search.example"),
        _row("Mail", "down", tags=("team-pay",)),
    ]
    assert filtered(rows, OverviewFilter()) == rows
    names = lambda wanted: [r.name for r in filtered(rows, wanted)]  # noqa: E731
    assert names(OverviewFilter(text="SHOP.example")) == ["Checkout"]  # the URL, any case
    assert names(OverviewFilter(text="team-find")) == ["Search"]  # a tag
    assert names(OverviewFilter(states=frozenset({"down"}))) == ["Checkout", "Mail"]
    assert names(OverviewFilter(groups=frozenset({NO_GROUP}))) == ["Mail"]
    assert names(OverviewFilter(tags=frozenset({"team-pay"}), visibility="private")) == ["Mail"]
    assert names(OverviewFilter(states=frozenset({"down"}), groups=frozenset({"Shop"}),
                                visibility="public")) == ["Checkout"]
    assert names(OverviewFilter(text="nothing like it")) == []
    assert group_choices(rows) == [NO_GROUP, "Shop"]
    assert tag_choices(rows) == ["team-find", "team-pay"]


def _monitor(name: str, **fields: Any) -> MonitorView:
    return create_monitor(parse_monitor_input(
        {"name": name, "url": f"http://127.0.0.1:9/{name.lower()}", **fields}))


def _set_group(monitor: MonitorView, group: str) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(Monitor).where(Monitor.id == monitor.id).values(group_name=group))


def _record(monitor: MonitorView, at: datetime, latency: float | None,
            outcome: str = "up") -> None:
    record_result(monitor.id, ProbeResult(outcome, checked_at=at, latency_ms=latency,
                                          reason=None if outcome == "up" else "HTTP 503"))


def test_rows_carry_uptime_p95_sparkline_certificate_and_the_effective_state() -> None:
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    api = _monitor("API", tags=["team-a"])
    _set_group(api, "Core")  # as the status page layout does
    web = _monitor("Web")
    idle = _monitor("Idle")
    set_paused(idle.slug, True)
    latencies = [100.0, 120.0, 140.0, 900.0, 110.0, 130.0]
    start = now - timedelta(hours=5)
    for i, latency in enumerate(latencies):  # one result an hour, 5 hours ago to now
        _record(api, start + timedelta(hours=i), latency)
    _record(web, now - timedelta(minutes=20), 50.0)
    _record(web, now - timedelta(minutes=10), None, "down")
    _record(web, now - timedelta(minutes=5), None, "down")

    rows = {r.slug: r for r in overview_rows(now)}
    assert list(rows) == ["web", "api", "idle"]  # down first, then by name
    expected = LatencyHistogram()
    for latency in latencies:
        expected.add(latency)
    assert rows["api"].p95_24h_ms == pytest.approx(expected.quantile(0.95))
    assert rows["api"].uptime_24h == pytest.approx(1.0)
    assert rows["api"].group == "Core" and rows["api"].tags == ("team-a",)
    assert rows["api"].last_latency_ms == 130.0
    assert len(rows["api"].latency_24h) == 24
    line = rows["api"].latency_24h
    assert line[-6:] == pytest.approx([100.0, 120.0, 140.0, 900.0, 110.0, 130.0], rel=0.02)
    assert all(v is None for v in line[:-6])  # no result in those hours
    assert rows["web"].state == "down" and rows["web"].reason == "HTTP 503"
    assert rows["web"].uptime_24h is not None and rows["web"].uptime_24h < 1
    assert rows["idle"].state == "paused" and rows["idle"].p95_24h_ms is None
    # The overview's uptime is the status page's, computed the one way (without the bars).
    public = status_read_model([api.id, web.id, idle.id], now)
    for monitor in (api, web, idle):
        assert (rows[monitor.slug].uptime_24h, rows[monitor.slug].uptime_30d) == (
            public[monitor.id].uptime["24h"], public[monitor.id].uptime["30d"])


def test_the_settled_hours_kept_in_memory_do_not_hide_a_newer_result() -> None:
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    api = _monitor("API")
    _record(api, now - timedelta(hours=3), 100.0)
    assert overview_rows(now)[0].p95_24h_ms == pytest.approx(100.0, rel=0.02)
    _record(api, now - timedelta(minutes=1), 800.0)  # the current hour is read every time
    assert overview_rows(now)[0].p95_24h_ms == pytest.approx(800.0, rel=0.02)


def test_a_refresh_runs_the_same_few_statements_for_3_or_30_monitors() -> None:
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)

    def statements() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            overview_rows(now)
            overview_tiles(now)
        finally:
            event.remove(get_engine(), "before_cursor_execute", listener)
        return len(seen)

    for n in range(3):
        _record(_monitor(f"M{n}"), now - timedelta(minutes=n + 1), 100.0)
    overview_rows(now)  # the settled hours are read once
    few = statements()
    for n in range(3, 30):
        _record(_monitor(f"M{n}"), now - timedelta(minutes=n + 1), 100.0)
    overview_rows(now)
    assert statements() == few


def test_tiles_count_states_incidents_checks_and_how_far_behind_the_engine_is() -> None:
    now = datetime.now(UTC)
    fresh = _monitor("Fresh", interval=60, timeout=5)
    late = _monitor("Late", interval=60, timeout=5)
    paused = _monitor("Paused")
    set_paused(paused.slug, True)
    _record(fresh, now - timedelta(seconds=10), 80.0)
    _record(late, now - timedelta(seconds=65 + 120), None, "down")
    _record(late, now - timedelta(seconds=65 + 100), None, "down")
    before = overview_tiles(now)  # the down monitor opened its own incident
    create_incident("Checkout errors", "investigating", "Looking")
    tiles = overview_tiles(now)
    assert tiles.states["up"] == 1 and tiles.states["down"] == 1 and tiles.states["paused"] == 1
    assert tiles.open_incidents == before.open_incidents + 1 >= 2
    assert tiles.unacknowledged_incidents == before.unacknowledged_incidents + 1
    assert tiles.checks_last_minute == 1
    assert tiles.behind_schedule_s == pytest.approx(100, abs=2)  # 165 s since, due after 65
