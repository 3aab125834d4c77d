"""The public status page headless (AppTest): the day bars per group, the uptime window picker,
and the response-time charts only when asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from checks.result import ProbeResult
from storage.results import record_result
from storage.status import LayoutRow, page_layout, save_layout
from tests.pages_support import page
from tests.status_support import monitor


def charts(at) -> list:  # type: ignore[no-untyped-def]
    return at.get("vega_lite_chart")


def bar_rows(at) -> list[list[dict]]:  # type: ignore[no-untyped-def]
    """Per bars component on the page, the rows its payload holds."""
    return [json.loads(element.proto.bytes)["rows"] for element in at.get("bidi_component")
            if element.proto.component_name == "upwatch_day_bars"]


def test_each_group_gets_its_bars_and_no_chart_is_drawn_first() -> None:
    for name in ("Shop", "Search", "Mail"):
        monitor(name)
    place = {"Shop": ("Web", 0), "Search": ("Web", 1), "Mail": ("Other", 2)}
    save_layout([LayoutRow(r.monitor_id, r.name, True, *place[r.name], False)
                 for r in page_layout()])
    at = page("status.py").run()
    assert not at.exception
    assert not charts(at)  # no chart library is fetched by a first visit
    groups = bar_rows(at)
    assert [[row["name"] for row in rows] for rows in groups] == [["Shop", "Search"], ["Mail"]]
    assert all(len(row["days"]) == len(row["titles"]) == 90 for rows in groups for row in rows)
    # Each group's heading opens its Markdown element of component lines.
    groups = [m.value for m in at.markdown if str(m.value).startswith("### ")]
    assert [g.split("\n", 1)[0] for g in groups] == ["### Web", "### Other"]
    assert "Shop" in groups[0] and "Search" in groups[0] and "Mail" in groups[1]


def test_the_uptime_window_picker_changes_the_figures_not_the_bars() -> None:
    shop = monitor("Shop")
    record_result(shop.id, ProbeResult("down", datetime.now(UTC) - timedelta(minutes=30),
                                       latency_ms=None, reason="refused"))
    at = page("status.py").run()
    before = bar_rows(at)

    def lines() -> str:
        return " ".join(str(m.value) for m in at.markdown)

    assert "uptime (30 days)" in lines()
    at.segmented_control(key="uptime_window").set_value("24h").run()
    assert not at.exception
    assert "uptime (24 hours)" in lines() and "uptime (30 days)" not in lines()
    assert bar_rows(at) == before


def test_response_times_appear_per_group_when_switched_on() -> None:
    shop = monitor("Shop", latency_ms=40.0)
    record_result(shop.id, ProbeResult("up", datetime.now(UTC) - timedelta(minutes=5),
                                       latency_ms=200.0))
    at = page("status.py").run()
    assert not at.exception
    assert len(charts(at)) == 0 and len(bar_rows(at)) == 1
    at.toggle(key="response_times").set_value(True).run()
    assert not at.exception
    assert len(charts(at)) == 1
    latency = charts(at)[0].proto
    assert "p95" in latency.spec and "Shop" in str(latency.datasets) + latency.spec
