"""The status page's day bars and response-time chart: colours, hover texts, the browser payload."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

from storage.incidents import IncidentView
from storage.stats import DayBar
from storage.status import PublicComponent, PublicStatus
from ui.status_bars import CSS, JS
from ui.status_latency import latency_chart, latency_rows
from web.day_bars import (
    BAR_COLORS,
    CATEGORY_INDEX,
    bar_title,
    bars_payload,
    day_category,
    uptime_text,
)

DAY = date(2026, 8, 1)


def bar(uptime: float | None, maintenance_s: int = 0, observed_s: int = 86_400,
        day: date = DAY, down_s: int = 120) -> DayBar:
    return DayBar(day, uptime, up_s=0, degraded_s=0, down_s=down_s, maintenance_s=maintenance_s,
                  observed_s=observed_s, checks=1)


def component(name: str, bars: tuple[DayBar, ...] = (), id: int | None = None,
              latency: dict[str, dict[str, float | None]] | None = None) -> PublicComponent:
    return PublicComponent(id=hash(name) % 1000 if id is None else id, slug=name.lower(),
                           name=name, group=None, sort_order=0, state="up", since=None,
                           last_check_at=None, latency_ms=None, url=None, has_certificate=False,
                           latency=latency or {}, bars=bars)


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
    rows = json.loads(bars_payload(status, [shop, twin, hostile]))["rows"]
    # Two components of the same name keep a row each; names are data, not markup.
    assert [r["name"] for r in rows] == ["Shop", "Shop", '<img src=x onerror="alert(1)">']
    for row in rows:
        assert len(row["days"]) == len(row["titles"]) == 90
    assert rows[0]["days"] == str(CATEGORY_INDEX["≥ 99.9%"]) * 89 + str(CATEGORY_INDEX["< 90%"])
    assert rows[0]["titles"][0].startswith(f"{(today - timedelta(days=89)).isoformat()} ·")
    assert rows[0]["titles"][-1] == (
        "2026-08-31 · uptime 50.00% · 720 min down · incidents: Checkout <b>down</b>")
    assert rows[1]["titles"][-1].endswith("incidents: none")  # the other Shop had no incident


def test_the_browser_code_sets_text_and_never_parses_markup() -> None:
    for parses_markup in ("innerHTML", "outerHTML", "insertAdjacentHTML", "DOMParser",
                          "document.write", "eval(", "Function("):
        assert parses_markup not in JS
    assert "textContent = text" in JS and "tip.textContent = strip.uwTitles[i]" in JS
    assert not re.search(r"https?://", JS + CSS)  # nothing fetched from elsewhere


def test_response_times_chart_p50_and_p95_of_the_window() -> None:
    fast = component("Shop", latency={"7d": {"p50": 41.26, "p95": 120.0, "p99": 300.0}})
    quiet = component("Search", latency={"7d": {"p50": None, "p95": None, "p99": None}})
    rows = latency_rows([fast, quiet], "7d")
    assert rows.values.tolist() == [["Shop", "median (p50)", 41.3],
                                    ["Shop", "slowest 5% (p95)", 120.0]]
    assert latency_chart([fast, quiet], "7d") is not None
    assert latency_chart([fast, quiet], "24h") is None
    assert latency_rows([quiet], "7d").empty
