"""The status page's board and response-time chart: colours, hover texts, the browser payload,
the view a browser reports."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path

from streamlit.components.v2.component_path_utils import ComponentPathUtils

from readmodel.board_payload import (
    BAR_COLORS,
    CATEGORY_INDEX,
    bar_title,
    board_payload,
    day_category,
    uptime_text,
)
from storage.daily_bars import DayBar
from storage.incidents import IncidentView
from storage.status import PublicComponent, PublicStatus
from ui.status_board import CSS, JS, STATIC_DIR, BoardView, view_from
from ui.status_latency import latency_chart, latency_rows

DAY = date(2026, 8, 1)


def bar(uptime: float | None, maintenance_s: int = 0, observed_s: int = 86_400,
        day: date = DAY, down_s: int = 120) -> DayBar:
    return DayBar(day, uptime, up_s=0, degraded_s=0, down_s=down_s, maintenance_s=maintenance_s,
                  observed_s=observed_s, checks=1)


def component(name: str, bars: tuple[DayBar, ...] = (), id: int | None = None,
              latency: dict[str, dict[str, float | None]] | None = None,
              group: str | None = None, url: str | None = None,
              uptime: dict[str, float | None] | None = None) -> PublicComponent:
    return PublicComponent(id=hash(name) % 1000 if id is None else id, slug=name.lower(),
                           name=name, group=group, sort_order=0, state="up", since=None,
                           last_check_at=None, latency_ms=None, url=url, has_certificate=False,
                           uptime=uptime or {}, latency=latency or {}, bars=bars)


def test_each_day_has_the_colour_of_its_uptime_grey_without_data_blue_for_maintenance() -> None:
    cases = [(bar(0.9995), "≥ 99.9%", "99.95%"), (bar(0.995), "≥ 99%", "99.50%"),
             (bar(0.97), "≥ 95%", "97.00%"), (bar(0.9), "≥ 90%", "90.00%"),
             (bar(0.5), "< 90%", "50.00%"),
             (bar(None, observed_s=0), "no data", "no data"),
             (bar(None, 86_400, 0), "maintenance", "maintenance"),
             (bar(0.5, 90_000), "maintenance", "50.00% (maintenance)")]
    for day, category, text in cases:
        assert (day_category(day), uptime_text(day)) == (category, text)
    # The browser code picks each day's colour by its category's digit.
    colors = json.loads(JS[JS.index("const colors = ") + 15:].split(";", 1)[0])
    assert [colors[CATEGORY_INDEX[name]] for name in BAR_COLORS] == list(BAR_COLORS.values())


def test_a_days_hover_text_has_date_uptime_downtime_and_incidents() -> None:
    assert bar_title(bar(0.9995, down_s=180), []) == (
        "2026-08-01 · uptime 99.95% · 3 min down · incidents: none")
    assert bar_title(bar(0.9), ["Checkout slow", "DNS"]).endswith(
        "· incidents: Checkout slow; DNS")


def test_the_payload_has_a_row_per_component_with_90_days_oldest_first() -> None:
    today = date(2026, 8, 31)
    days = tuple(bar(0.9999, day=today - timedelta(days=89 - i)) for i in range(90))
    broken = (*days[:-1], bar(0.5, day=today, down_s=43_200))
    shop, twin = component("Shop", broken, id=1), component("Shop", days, id=2)
    hostile = component('<img src=x onerror="alert(1)">', days, id=3)
    started = datetime(2026, 8, 31, 9, tzinfo=UTC)
    incident = IncidentView(
        id=1, title="Checkout <b>down</b>", status="investigating", monitor_id=1,
        monitor_name="Shop", started_at=started, resolved_at=None, updates=(), cause=None,
        public=True)
    status = PublicStatus("partial_outage", (shop, twin, hostile), (incident,), (), started)
    [group] = json.loads(board_payload(status))["groups"]
    assert group["name"] == ""  # ungrouped: no heading
    rows = group["rows"]
    # Two components of the same name keep a row each; names are data, not markup.
    assert [r["name"] for r in rows] == ["Shop", "Shop", '<img src=x onerror="alert(1)">']
    for row in rows:
        assert len(row["days"]) == len(row["titles"]) == 90
    assert rows[0]["days"] == str(CATEGORY_INDEX["≥ 99.9%"]) * 89 + str(CATEGORY_INDEX["< 90%"])
    assert rows[0]["titles"][0].startswith(f"{(today - timedelta(days=89)).isoformat()} ·")
    assert rows[0]["titles"][-1] == (
        "2026-08-31 · uptime 50.00% · 720 min down · incidents: Checkout <b>down</b>")
    assert rows[1]["titles"][-1].endswith("incidents: none")  # the other Shop had no incident


def test_each_row_has_its_state_and_every_windows_uptime_and_a_url_only_when_shown() -> None:
    shop = component("Shop", group="Web", url="https://shop.example/",
                     uptime={"24h": 0.5, "7d": 0.99951, "30d": 1.0, "90d": None})
    search = component("Search", group="Web")
    mail = component("Mail", group="Other")
    status = PublicStatus("operational", (shop, search, mail), (), (), datetime.now(UTC))
    board = json.loads(board_payload(status))
    assert board["windows"] == [["24h", "24 hours"], ["7d", "7 days"], ["30d", "30 days"],
                                ["90d", "90 days"]]
    assert [(g["name"], [r["name"] for r in g["rows"]]) for g in board["groups"]] == [
        ("Web", ["Shop", "Search"]), ("Other", ["Mail"])]
    shop_row, search_row = board["groups"][0]["rows"]
    assert shop_row["state"] == "🟢 up"
    assert shop_row["uptime"] == {"24h": "50.00% uptime", "7d": "99.95% uptime",
                                  "30d": "100.00% uptime", "90d": "no data"}
    assert shop_row["url"] == "https://shop.example/"
    assert "url" not in search_row  # its URL is not shown: the payload has none


def test_the_view_a_browser_reports_is_checked() -> None:
    assert view_from({"window": "7d", "latency": True}) == BoardView("7d", True)
    assert view_from(None) == BoardView("30d", False)
    # A visitor can send anything: an unknown window or a truthy string is the default.
    assert view_from({"window": "1y", "latency": "yes"}) == BoardView("30d", False)
    assert view_from(["7d"]) == BoardView()


def test_the_browser_code_sets_text_and_never_parses_markup() -> None:
    for parses_markup in ("innerHTML", "outerHTML", "insertAdjacentHTML", "DOMParser",
                          "document.write", "eval(", "Function("):
        assert parses_markup not in JS
    assert "textContent = text" in JS and "tip.textContent = strip.uwTitles[i]" in JS
    assert not re.search(r"https?://", JS + CSS)  # nothing fetched from elsewhere


def test_the_browser_code_comes_from_packaged_files_and_reaches_streamlit_as_code() -> None:
    assert not re.search(r"__[A-Z_]+__", JS)  # every placeholder filled in
    assert 'const view = { window: "30d", latency: false };' in JS
    assert ".uw-days {" in CSS and "@media (max-width: 640px)" in CSS
    # Streamlit takes text that looks like a path for a file of a component's asset_dir (which
    # the board has not): both must be taken as the code itself.
    assert ComponentPathUtils.looks_like_inline_content(JS)
    assert ComponentPathUtils.looks_like_inline_content(CSS)
    # An installed (not editable) copy has the files too: the package data lists each of them.
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["ui"]
    files = sorted(path.relative_to(STATIC_DIR.parent).as_posix()
                   for path in STATIC_DIR.iterdir())
    assert {"static/status_board.css", "static/status_board.js"} <= set(files)
    for file in files:
        assert any(fnmatch(file, pattern) for pattern in patterns), file


def test_response_times_chart_p50_and_p95_of_the_window() -> None:
    fast = component("Shop", latency={"7d": {"p50": 41.26, "p95": 120.0, "p99": 300.0}})
    quiet = component("Search", latency={"7d": {"p50": None, "p95": None, "p99": None}})
    rows = latency_rows([fast, quiet], "7d")
    assert rows.values.tolist() == [["Shop", "median (p50)", 41.3],
                                    ["Shop", "slowest 5% (p95)", 120.0]]
    chart = latency_chart([fast, quiet], "7d")
    assert chart is not None
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar"
    encoding = spec["encoding"]
    assert (encoding["y"]["field"], encoding["x"]["field"]) == ("component", "ms")
    assert encoding["yOffset"]["sort"] == ["median (p50)", "slowest 5% (p95)"]
    assert encoding["color"]["field"] == "quantile"
    assert spec["height"] == 34  # one component with figures: one row
    (data,) = spec["datasets"].values()
    assert data == [{"component": "Shop", "quantile": "median (p50)", "ms": 41.3},
                    {"component": "Shop", "quantile": "slowest 5% (p95)", "ms": 120.0}]
    assert latency_chart([fast, quiet], "24h") is None
    assert latency_rows([quiet], "7d").empty
