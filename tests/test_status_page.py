"""The public status page headless (AppTest): one board of components with its groups and bars,
and the response-time charts only when the visitor's view asks for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from domain.result import ProbeResult
from storage.results import record_result
from storage.status import LayoutRow, page_layout, save_layout
from tests.pages_support import page
from tests.status_support import monitor
from ui.status_board import BOARD_KEY


def charts(at) -> list:  # type: ignore[no-untyped-def]
    return at.get("vega_lite_chart")


def chart_rows(chart) -> list[dict]:  # type: ignore[no-untyped-def]
    """The rows a chart draws, from the Arrow data it carries to the browser."""
    [dataset] = chart.proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()


def boards(at) -> list[dict]:  # type: ignore[no-untyped-def]
    """The payload of each board component on the page."""
    return [json.loads(element.proto.bytes) for element in at.get("bidi_component")
            if element.proto.component_name == "upwatch_status_board"]


def test_one_board_holds_every_group_and_no_chart_is_drawn_first() -> None:
    for name in ("Shop", "Search", "Mail"):
        monitor(name)
    place = {"Shop": ("Web", 0), "Search": ("Web", 1), "Mail": ("Other", 2)}
    save_layout([LayoutRow(r.monitor_id, r.name, True, *place[r.name], False)
                 for r in page_layout()])
    at = page("status.py").run()
    assert not at.exception
    assert not charts(at)  # no chart library is fetched by a first visit
    [board] = boards(at)
    assert [(g["name"], [r["name"] for r in g["rows"]]) for g in board["groups"]] == [
        ("Web", ["Shop", "Search"]), ("Other", ["Mail"])]
    rows = [row for group in board["groups"] for row in group["rows"]]
    assert all(len(row["days"]) == len(row["titles"]) == 90 for row in rows)
    assert all(row["state"] == "🟢 up" and set(row["uptime"]) == {"24h", "7d", "30d", "90d"}
               for row in rows)


def test_a_page_with_no_public_monitor_says_so_and_draws_no_board() -> None:
    monitor("Hidden", public=False)
    at = page("status.py").run()
    assert not at.exception
    assert not boards(at)
    assert "No services are listed on this page yet." in [i.value for i in at.info]


def test_response_times_appear_per_group_for_the_window_the_visitor_picked() -> None:
    shop = monitor("Shop", latency_ms=40.0)
    record_result(shop.id, ProbeResult("up", datetime.now(UTC) - timedelta(days=3),
                                       latency_ms=900.0))
    at = page("status.py").run()
    assert not at.exception
    assert len(charts(at)) == 0 and len(boards(at)) == 1
    # What the board's browser code reports when the visitor switches response times on.
    at.session_state[BOARD_KEY] = {"view": {"window": "7d", "latency": True}}
    at.run()
    assert not at.exception
    [week] = charts(at)
    assert "p95" in week.proto.spec
    assert {(r["component"], r["ms"]) for r in chart_rows(week)} == {("Shop", 40.0),
                                                                     ("Shop", 900.0)}
    assert at.subheader[0].value == "Response times (p50 / p95), last 7 days"
    # The chart is of the window picked: the last 24 hours have no 900 ms check.
    at.session_state[BOARD_KEY] = {"view": {"window": "24h", "latency": True}}
    at.run()
    [day] = charts(at)
    assert {r["ms"] for r in chart_rows(day)} == {40.0}
    # A view the page cannot know is the default one: no charts, no error.
    at.session_state[BOARD_KEY] = {"view": {"window": "<script>", "latency": "yes"}}
    at.run()
    assert not at.exception and not charts(at)
    assert len(boards(at)) == 1
