"""The monitor page in a real browser: a week of results drawn (90 daily bars with their
tooltip, the latency chart), the window switched, the phases and the check log opened (each
built on demand), the log paged, the monitor cloned."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.db import get_engine
from storage.monitors import create_monitor, set_paused
from storage.recorder import record_batch
from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.server_process import running_upwatch
from tests.test_browser_status import rgb

pytestmark = pytest.mark.browser

PASSWORD = "week of checks"

# What the first Vega view drew (it renders SVG): its lines, failure points and rules.
MARKS = """() => { const svg = document.querySelector('.vega-embed svg');
  const count = (sel) => svg.querySelectorAll(sel).length;
  return {lines: count('g.mark-line path'), points: count('g.mark-symbol path'),
          rules: count('g.mark-rule line'),
          line_length: [...svg.querySelectorAll('g.mark-line path')]
              .map(p => (p.getAttribute('d') || '').length).reduce((a, b) => a + b, 0)}; }"""


def _seed_a_week() -> str:
    monitor = create_monitor(parse_monitor_input(
        {"name": "Checkout", "url": "http://127.0.0.1:9/health"}))
    set_paused(monitor.slug, True)  # the engine adds nothing while the page is read
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = 7 * 24 * 60
    items = []
    for n in range(minutes):
        failed = n % 97 == 0
        items.append((monitor.id, ProbeResult(
            "down" if failed else "up", checked_at=now - timedelta(minutes=minutes - n),
            latency_ms=None if failed else 80.0 + (n % 60) + (40 if n % 1440 > 1200 else 0),
            reason="connection refused" if failed else None,
            phases={} if failed else {"dns": 2.0, "connect": 5.0, "ttfb": 60.0,
                                      "transfer": 3.0})))
    with get_engine().begin() as connection:
        for first in range(0, len(items), 1000):
            record_batch(connection, items[first:first + 1000], get_settings().zone)
    return monitor.slug


def test_a_week_of_results_is_drawn_switched_to_a_day_and_its_log_paged(
    tmp_path: Path, isolated_settings: Path
) -> None:
    slug = _seed_a_week()
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
           "UPWATCH_ADMIN_PASSWORD": PASSWORD}
    with chromium_page() as page, running_upwatch(
        free_port(), env, tmp_path / "server.log"
    ) as server:
        page.goto(f"{server.url}/monitor?slug={slug}&window=7d")
        page.wait_for_selector(READY)  # not signed in yet: the page links to /login
        page.get_by_text("Sign in", exact=True).first.click()
        page.wait_for_url(f"{server.url}/login*")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server.url}/monitor?slug={slug}*")
        page.wait_for_selector(READY)
        page.get_by_role("heading", name="Checkout").wait_for()
        # The 90 daily bars, drawn by the status page's code: a week of days with about one
        # failed minute in 97 (the "≥ 95%" band), grey before; hovering today says so.
        strip = page.locator(".uw-days")
        strip.wait_for()
        assert strip.get_attribute("data-days") is not None
        assert len(strip.get_attribute("data-days") or "") == 90
        gradient = strip.evaluate("s => getComputedStyle(s).backgroundImage")
        assert rgb("no data") in gradient and rgb("≥ 95%") in gradient, gradient
        strip.scroll_into_view_if_needed()  # below the charts and numbers
        box = strip.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        tip = page.locator(".uw-tip")
        tip.wait_for()
        today = datetime.now(UTC).date().isoformat()
        assert re.match(rf"{today} · uptime \d+\.\d\d% · \d+ min down · incidents: ",
                        tip.inner_text()), tip.inner_text()
        page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
        assert tip.inner_text().endswith("uptime no data · 0 min down · incidents: none")
        page.locator(".vega-embed svg g.mark-line path").first.wait_for()
        page.get_by_text("from hourly rollups").wait_for()
        week = page.evaluate(MARKS)
        assert week["lines"] == 3, week  # p50, p95, p99
        assert week["points"] > 50 and week["rules"] > 50, week  # failures, state changes
        assert week["line_length"] > 2_000, week  # ~168 hourly points per line
        screenshot(page, "monitor-page-7d")

        page.get_by_text("24 hours", exact=True).first.click()
        page.get_by_text("from raw results").wait_for()
        page.wait_for_selector(READY)
        assert "window=24h" in page.url
        day = page.evaluate(MARKS)
        assert day["lines"] == 3 and day != week, (day, week)
        assert 5 <= day["points"] < week["points"], (day, week)
        # The phases' chart is drawn once its section is opened, below the latency chart.
        assert page.locator(".vega-embed svg g.mark-area path").count() == 0
        page.get_by_text("Timing phases: DNS, connect, TLS, first byte, transfer").click()
        page.locator(".vega-embed svg g.mark-area path").nth(2).wait_for()  # one per phase
        page.wait_for_selector(READY)

        # The check log, built when its section opens.
        assert page.get_by_role("spinbutton", name="Page").count() == 0
        page.get_by_text("Check log: every result of the window", exact=False).click()

        caption = page.get_by_text(re.compile(r"^Page 1 of \d+ · \d+ results$"))
        found = re.fullmatch(r"Page 1 of (\d+) · (\d+) results", caption.inner_text().strip())
        assert found, caption.inner_text()
        pages, total = int(found[1]), int(found[2])
        # A day, one a minute (the oldest minutes leave the window while a slow machine
        # gets here: the results end when the test seeded them).
        assert 1425 <= total <= 1440 and pages == -(-total // 50), (pages, total)
        page_input = page.get_by_role("spinbutton", name="Page")
        for number in (2, 5, 10):  # through the first 500 results
            page_input.fill(str(number))
            page_input.press("Enter")
            page.get_by_text(f"Page {number} of {pages} · {total} results").wait_for()
        screenshot(page, "monitor-page-24h")

        # One click downloads the window's results as CSV, built when clicked.
        with page.expect_download() as download:
            page.get_by_role("button", name="⬇️ Download CSV of this window").click()
        assert download.value.suggested_filename == f"{slug}-results.csv"
        lines = Path(download.value.path()).read_text().splitlines()
        assert lines[0] == "checked_at,outcome,latency_ms,http_status,reason"
        assert abs(len(lines) - 1 - total) <= 2, (len(lines), total)  # the same window

        # Edit: the form is built when its expander opens, prefilled.
        assert page.locator('input[aria-label="Name"]').count() == 0
        page.get_by_text("Edit", exact=True).click()
        edit_name = page.locator('input[aria-label="Name"]').first
        edit_name.wait_for()
        assert edit_name.input_value() == "Checkout"
        page.get_by_text("Edit", exact=True).click()  # closed again, for the clone form below
        page.locator('input[aria-label="Name"]').first.wait_for(state="detached")

        # Clone: the add form prefilled; adding the copy links to its own page.
        page.get_by_role("button", name="📄 Clone…").click()
        name = page.locator('input[aria-label="Name"] >> visible=true')  # not the Edit form's
        name.wait_for()
        assert name.input_value() == "Checkout (copy)"
        page.get_by_role("button", name="Add copy").click()
        page.get_by_role("link", name="Open Checkout (copy)").click()
        page.wait_for_url(f"{server.url}/monitor?slug=checkout-copy*")
        page.wait_for_selector(READY)
        page.get_by_role("heading", name="Checkout (copy)").wait_for()
        # Its own history, not the original's week (the engine may have checked it once).
        if page.get_by_role("spinbutton", name="Page").count() == 0:  # the log closed here
            page.get_by_text("Check log: every result of the window", exact=False).click()
        page.get_by_text(re.compile(r"^Page 1 of 1 · [0-3] results$")).wait_for()
        page.wait_for_selector(READY)
        screenshot(page, "monitor-page-clone")
