"""The status page's day bars and response-time chart, as specs: colours, tooltip rows, layout."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pyarrow as pa

from storage.stats import DayBar
from storage.status import PublicComponent, PublicStatus
from ui.status_bars import BAR_COLORS, bars_spec, day_colors, uptime_text
from ui.status_latency import latency_chart, latency_rows

DAY = date(2026, 8, 1)


def bar(uptime: float | None, maintenance_s: int = 0, observed_s: int = 86_400) -> DayBar:
    return DayBar(DAY, uptime, up_s=0, degraded_s=0, down_s=120, maintenance_s=maintenance_s,
                  observed_s=observed_s, checks=1)


def component(name: str, bars: tuple[DayBar, ...] = (),
              latency: dict[str, dict[str, float | None]] | None = None) -> PublicComponent:
    return PublicComponent(id=hash(name) % 1000, slug=name.lower(), name=name, group=None,
                           sort_order=0, state="up", since=None, last_check_at=None,
                           latency_ms=None, url=None, has_certificate=False,
                           latency=latency or {}, bars=bars)


def test_each_uptime_text_has_the_colour_of_its_day() -> None:
    days = (bar(0.9995), bar(0.97), bar(None, observed_s=0), bar(None, 86_400, 0), bar(0.5, 90_000))
    colors = day_colors([component("Shop", days)])
    assert colors == {
        "99.95%": BAR_COLORS["≥ 99.9%"],
        "97.00%": BAR_COLORS["≥ 95%"],
        "no data": BAR_COLORS["no data"],
        "maintenance": BAR_COLORS["maintenance"],
        "50.00% (maintenance)": BAR_COLORS["maintenance"],
    }
    assert uptime_text(bar(0.9)) == "90.00%"


def test_the_bars_spec_draws_in_one_layout_pass_and_tooltips_show_only_the_row() -> None:
    days = tuple(bar(0.999 + i / 100_000) for i in range(90))
    members = [component("Shop", days), component("Search", days)]
    status = PublicStatus("operational", tuple(members), (), (), datetime.now(UTC))
    spec = bars_spec(status, members)
    day_bars, labels = spec["layer"]
    # Names as a text layer inside the plot and no padding: Vega needs no second layout.
    assert spec["padding"] == {"left": 0, "right": 0, "top": 0, "bottom": 0}
    assert day_bars["encoding"]["y"]["axis"] is None and labels["mark"]["type"] == "text"
    assert set(day_bars["encoding"]) == {"x", "y", "color"}
    assert day_bars["mark"]["tooltip"] == {"content": "data"}
    table = pa.ipc.open_stream(io.BytesIO(spec["datasets"][day_bars["data"]["name"]])).read_all()
    frame = table.to_pandas()
    assert list(frame.columns) == ["component", "day", "uptime", "downtime", "incidents"]
    assert len(frame) == 2 * 90 and set(frame["uptime"]) <= set(day_colors(members))
    # A numeric index would reach the browser's rows, and so every tooltip, as "(index)".
    index = table.schema.field("__index_level_0__").type
    assert not pa.types.is_integer(index)
    names = pa.ipc.open_stream(io.BytesIO(spec["datasets"][labels["data"]["name"]])).read_all()
    assert names.column("component").to_pylist() == ["Shop", "Search"]


def test_response_times_chart_p50_and_p95_of_the_window() -> None:
    fast = component("Shop", latency={"7d": {"p50": 41.26, "p95": 120.0, "p99": 300.0}})
    quiet = component("Search", latency={"7d": {"p50": None, "p95": None, "p99": None}})
    rows = latency_rows([fast, quiet], "7d")
    assert rows.values.tolist() == [["Shop", "median (p50)", 41.3],
                                    ["Shop", "slowest 5% (p95)", 120.0]]
    assert latency_chart([fast, quiet], "7d") is not None
    assert latency_chart([fast, quiet], "24h") is None
    assert latency_rows([quiet], "7d").empty
