"""The public status page and the badges in a real browser, served by the real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from domain.result import ProbeResult
from readmodel.board_payload import BAR_COLORS
from storage.db import get_engine
from storage.incidents import create_incident, post_update
from storage.models import MaintenanceWindow
from storage.results import record_result
from storage.status import LayoutRow, page_layout, save_layout
from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.server_process import running_upwatch
from tests.status_support import monitor

pytestmark = pytest.mark.browser

GROUPS = ("Website", "API", "Payments")
HOSTILE = '<img src=x onerror="window.pwned=1">Service 04'


def name(number: int) -> str:
    return HOSTILE if number == 4 else f"Service {number:02d}"


def seed() -> int:
    """The monitors, layout, incident and maintenance; returns Service 07's id."""
    now = datetime.now(UTC)
    for number in range(20):
        if number != 7:
            monitor(name(number), url=f"https://s{number}.example/")
    # Up for two days, down for the last hour: each window has an uptime of its own.
    down = monitor(name(7), url="https://s7.example/", state=None)
    record_result(down.id, ProbeResult("up", now - timedelta(days=2), latency_ms=80.0))
    record_result(down.id, ProbeResult("down", now - timedelta(hours=1), reason="refused"))
    monitor("Zz private thing", url="https://zz-private-host.example/", public=False,
            state="down", reason="zz-secret-error")
    rows = [r for r in page_layout() if r.name != "Zz private thing"]
    rows.sort(key=lambda r: r.name.rsplit(" ", 1)[-1])  # by number: Service 00 .. Service 19
    save_layout([LayoutRow(r.monitor_id, r.name, True, GROUPS[i % 3], i, False)
                 for i, r in enumerate(rows)])
    payments = next(r.monitor_id for r in rows if r.name == "Service 02")
    incident = create_incident("Payments are failing", "investigating",
                               "We are looking into **failed payments**.", monitor_id=payments)
    post_update(incident, "identified", "A certificate expired on the card gateway.")
    with get_engine().begin() as connection:
        connection.execute(MaintenanceWindow.__table__.insert().values(
            title="Database upgrade", description="Writes pause for a minute.", timezone="UTC",
            group_name="API", starts_at=now + timedelta(hours=3),
            ends_at=now + timedelta(hours=4)))
    return down.id


# Per group of the board: its rows' names and each row's number of days drawn. The board
# draws inside a shadow root, which document-wide selectors do not enter.
BARS = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .flatMap(host => [...host.shadowRoot.querySelectorAll('.uw-group')])
    .map(group => [...group.querySelectorAll('.uw-row')].map(row => [
        row.querySelector('.uw-name').textContent,
        row.querySelector('.uw-days').style.backgroundImage
            ? row.querySelector('.uw-days').dataset.days.length : 0]))"""
BOARD_TEXT = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map(host => host.shadowRoot.textContent).join(' ')"""
SHADOW_HTML = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map(host => host.shadowRoot.innerHTML).join('')"""
FOCUSED = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map(host => host.shadowRoot.activeElement?.textContent).find(Boolean)"""
FOCUSED_LABEL = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map(host => host.shadowRoot.activeElement?.getAttribute('aria-label')).find(Boolean)"""
TAB_STOPS = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .flatMap(host => [...host.shadowRoot.querySelectorAll('.uw-days')])
    .filter(strip => strip.tabIndex === 0).length"""
TOOLTIP = """strip => { const tip = strip.getRootNode().querySelector('.uw-tip');
    return tip.hidden ? null : tip.textContent; }"""


def rgb(category: str) -> str:
    """A day category's colour as the browser's computed style writes it."""
    color = BAR_COLORS[category]
    return "rgb({}, {}, {})".format(*(int(color[i:i + 2], 16) for i in (1, 3, 5)))


def row(page, row_name: str):  # type: ignore[no-untyped-def]
    """The board's row of the component named `row_name`."""
    return page.locator(".uw-row").filter(has=page.locator(".uw-name", has_text=row_name))


def days(page, row_name: str):  # type: ignore[no-untyped-def]
    """The strip of day bars of the row named `row_name`."""
    return row(page, row_name).locator(".uw-days")


def hover_day(page, row_name: str, index: int) -> str | None:  # type: ignore[no-untyped-def]
    """Point at the `index`-th day (0 = 90 days ago, -1 = today) of the row named `row_name`,
    and return what its tooltip says."""
    strip = days(page, row_name)
    count = len(strip.get_attribute("data-days"))
    strip.scroll_into_view_if_needed()
    box = strip.bounding_box()
    page.mouse.move(box["x"] + box["width"] * (index % count + 0.5) / count,
                    box["y"] + box["height"] / 2)
    return strip.evaluate(TOOLTIP)


def test_the_status_page_and_every_badge_kind_in_a_browser(
    tmp_path: Path, isolated_settings: Path
) -> None:
    service_07 = seed()
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}", "UPWATCH_PROBES": "false",
           "UPWATCH_STATUS_TITLE": "Acme status"}
    with chromium_page() as page, running_upwatch(
        free_port(), env, tmp_path / "server.log"
    ) as server:
        page.set_viewport_size({"width": 1280, "height": 900})
        asked = []
        page.on("request", lambda request: asked.append(urlsplit(request.url).path))
        page.goto(f"{server.url}/status")
        page.wait_for_selector(READY)
        # The shell said where the server is: no guess at /status as the app's base URL first.
        assert "/_stcore/health" in asked and "/status/_stcore/health" not in asked
        page.get_by_text("Partial outage").wait_for()
        page.get_by_role("heading", name="Acme status").wait_for()
        for group in GROUPS:
            page.get_by_role("heading", name=group, exact=True).wait_for()
        page.get_by_text("Payments are failing").first.wait_for()
        body = page.inner_text("body")
        timeline = body[body.index("Payments are failing"):]
        assert timeline.index("Identified") < timeline.index("Investigating")
        assert "A certificate expired on the card gateway." in timeline
        assert "Database upgrade" in body

        # Every group's component has a row per component, in page order, of 90 day bars.
        page.wait_for_function(f"() => ({BARS})().flat().length == 20")
        groups = page.evaluate(BARS)
        assert [[n for n, _ in rows] for rows in groups] == [
            [name(n) for n in range(start, 20, 3)] for start in range(3)]
        assert [[bars for _, bars in rows] for rows in groups] == [[90] * 7, [90] * 7, [90] * 6]
        board = page.evaluate(BOARD_TEXT)
        assert HOSTILE in board and "🔴 down" in board  # shown as typed, with its state

        # The window picker changes every uptime figure at once, in the browser.
        uptime = row(page, "Service 07").locator(".uw-uptime")
        assert page.get_by_role("button", name="30 days").get_attribute("aria-pressed") == "true"
        month = uptime.text_content()
        page.get_by_role("button", name="24 hours").click()
        assert page.get_by_role("button", name="24 hours").get_attribute("aria-pressed") == "true"
        day = uptime.text_content()
        assert day != month and day.endswith("% uptime") and month.endswith("% uptime")
        assert float(day.split("%")[0]) < float(month.split("%")[0])  # the hour down weighs more

        # Hovering a day: its text names the date, uptime, downtime and that day's incidents.
        hover = hover_day(page, "Service 02", -1)
        assert hover is not None
        assert hover.startswith(datetime.now(UTC).date().isoformat()[:8])  # today, local zone
        for part in (" · uptime ", " min down", "incidents: Payments are failing"):
            assert part in hover, hover
        assert hover_day(page, "Service 03", -1).endswith("incidents: none")
        ninety_days_ago = hover_day(page, "Service 03", 0)
        assert ninety_days_ago.endswith("uptime no data · 0 min down · incidents: none")
        # As drawn: grey where there is no data (90 days ago), green for today's full uptime.
        drawn = days(page, "Service 03").evaluate("e => getComputedStyle(e).backgroundImage")
        assert drawn.startswith(f"linear-gradient(to right, {rgb('no data')} 0%"), drawn
        assert drawn.endswith(f"{rgb('≥ 99.9%')} 100%)"), drawn
        page.mouse.move(0, 0)
        assert days(page, "Service 03").evaluate(TOOLTIP) is None  # gone with the pointer
        # From the keyboard: a focused row shows today, the arrow keys move along the days.
        days(page, "Service 02").focus()
        assert days(page, "Service 02").evaluate(TOOLTIP) == hover
        page.keyboard.press("ArrowLeft")
        yesterday = days(page, "Service 02").evaluate(TOOLTIP)
        assert yesterday != hover and " · uptime " in yesterday
        # Down moves to the group's next row, on the same day; each group is one tab stop.
        page.keyboard.press("ArrowDown")
        assert page.evaluate(FOCUSED_LABEL).startswith("Service 05:")
        assert days(page, "Service 05").evaluate(TOOLTIP).split(" · ")[0] == (
            yesterday.split(" · ")[0])
        assert page.evaluate(TAB_STOPS) == 3
        days(page, "Service 05").blur()

        # A hostile name stays text: no element made from it, no script run.
        assert page.evaluate("() => window.pwned") is None
        assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
        shadow = page.evaluate(SHADOW_HTML)
        assert "<img" not in shadow and "&lt;img" in shadow

        # Nothing private anywhere: not in the document, not inside the bars' shadow roots.
        everything = page.content() + shadow
        for secret in ("s7.example", "Zz private", "zz-private-host", "zz-secret-error"):
            assert secret not in everything, secret

        page.mouse.move(0, 0)
        screenshot(page, "status-page-20-monitors")
        dark = page.context.browser.new_page(color_scheme="dark",
                                             viewport={"width": 390, "height": 844})
        dark.goto(f"{server.url}/status")
        dark.wait_for_selector(READY)
        dark.wait_for_function(f"() => ({BARS})().flat().length == 20")
        # On a phone each name sits above its bars, and the bars still fit the width.
        placed = days(dark, "Service 00").evaluate(
            "e => [e.closest('.uw-row').querySelector('.uw-info').getBoundingClientRect().bottom,"
            " e.getBoundingClientRect().top, e.getBoundingClientRect().right,"
            " e.getBoundingClientRect().height]")
        assert placed[0] <= placed[1] and placed[2] <= 390 and placed[3] >= 20
        screenshot(dark, "status-page-phone-dark")
        dark.close()

        # Response times on demand: the page runs again and draws a chart per group, of the
        # window picked; picking another one redraws them for that window.
        charts = "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length"
        assert page.evaluate(charts) == 0
        page.get_by_label("Show response times (p50 / p95)").check()
        page.get_by_role("heading", name="Response times (p50 / p95), last 24 hours").wait_for()
        page.wait_for_function(f"() => ({charts})() == 3")
        page.get_by_role("button", name="7 days").click()
        page.get_by_role("heading", name="Response times (p50 / p95), last 7 days").wait_for()
        assert page.evaluate(charts) == 3
        week = uptime.text_content()
        assert float(week.split("%")[0]) > float(day.split("%")[0])

        # A new snapshot redraws the board and keeps the visitor's window, switch and focus.
        record_result(service_07, ProbeResult("up", datetime.now(UTC), latency_ms=80.0))
        page.get_by_role("button", name="7 days").focus()
        row(page, "Service 07").locator(".uw-detail", has_text="up").wait_for(timeout=40_000)
        assert page.get_by_role("button", name="7 days").get_attribute("aria-pressed") == "true"
        assert page.get_by_label("Show response times (p50 / p95)").is_checked()
        published = httpx.get(f"{server.url}/api/v1/status").json()["components"]
        [seven_days] = [c["uptime"]["7d"] for c in published if c["name"] == "Service 07"]
        assert uptime.text_content() == f"{seven_days * 100:.2f}% uptime"  # this snapshot's
        assert page.evaluate(FOCUSED) == "7 days"
        assert page.evaluate(charts) == 3

        slug = "service-00"
        images = [f"/badge/{slug}/status.svg", f"/badge/{slug}/uptime.svg?window=7d",
                  f"/badge/{slug}/latency.svg?q=p99&window=24h", f"/badge/{slug}/cert.svg",
                  f"/badge/{slug}/status.svg?style=for-the-badge&label=Shop",
                  f"/badge/{slug}/uptime.svg?style=flat-square", "/badge/status.svg"]
        html = "".join(f'<img class="b" src="{server.url}{path}">' for path in images)
        embed = page.context.new_page()
        embed.set_content(f"<!doctype html><html><body>{html}</body></html>")
        embed.wait_for_function(
            "() => [...document.images].every(i => i.complete)", timeout=10_000)
        widths = embed.evaluate("[...document.images].map(i => i.naturalWidth)")
        assert len(widths) == len(images) and all(w > 0 for w in widths), widths
