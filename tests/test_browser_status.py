"""The public status page and the badges in a real browser, served by the real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.db import get_engine
from storage.incidents import create_incident, post_update
from storage.models import MaintenanceWindow
from storage.status import LayoutRow, page_layout, save_layout
from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.server_process import running_upwatch
from tests.status_support import monitor

pytestmark = pytest.mark.browser

GROUPS = ("Website", "API", "Payments")


def seed() -> None:
    for number in range(20):
        state = "down" if number == 7 else "up"
        monitor(f"Service {number:02d}", url=f"https://s{number}.example/", state=state,
                reason="refused" if state == "down" else None)
    save_layout([LayoutRow(r.monitor_id, r.name, True, GROUPS[i % 3], i, False)
                 for i, r in enumerate(page_layout())])
    incident = create_incident("Payments are failing", "investigating",
                               "We are looking into **failed payments**.")
    post_update(incident, "identified", "A certificate expired on the card gateway.")
    now = datetime.now(UTC)
    with get_engine().begin() as connection:
        connection.execute(MaintenanceWindow.__table__.insert().values(
            title="Database upgrade", description="Writes pause for a minute.", timezone="UTC",
            group_name="API", starts_at=now + timedelta(hours=3),
            ends_at=now + timedelta(hours=4)))


def test_the_status_page_and_every_badge_kind_in_a_browser(
    tmp_path: Path, isolated_settings: Path
) -> None:
    seed()
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}", "UPWATCH_PROBES": "false",
           "UPWATCH_STATUS_TITLE": "Acme status"}
    with chromium_page() as page, running_upwatch(
        free_port(), env, tmp_path / "server.log"
    ) as server:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{server.url}/status")
        page.wait_for_selector(READY)
        page.get_by_text("Partial outage").wait_for()
        page.get_by_role("heading", name="Acme status").wait_for()
        for group in GROUPS:
            page.get_by_role("heading", name=group, exact=True).wait_for()
        page.get_by_text("Payments are failing").wait_for()
        body = page.inner_text("body")
        timeline = body[body.index("Payments are failing"):]
        assert timeline.index("Identified") < timeline.index("Investigating")
        assert "A certificate expired on the card gateway." in timeline
        assert "Database upgrade" in body and "Service 07" in body
        page.wait_for_function(
            "() => document.querySelectorAll('g.mark-rect path').length >= 1800")
        # Per group chart: 90 bars for each of its components, and each component's name.
        charts = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
            ".map(c => [c.querySelectorAll('g.mark-rect path').length,"
            " [...c.querySelectorAll('g.mark-text text')].map(t => t.textContent)])")
        assert [bars for bars, _ in charts] == [7 * 90, 7 * 90, 6 * 90]
        assert [names for _, names in charts][2] == [f"Service {n:02d}" for n in range(2, 20, 3)]
        page.locator("g.mark-rect path").first.hover()
        tooltip = page.locator("#vg-tooltip-element.visible")
        tooltip.wait_for()
        shown = tooltip.inner_text()
        for field in ("Service 00", "day", "uptime", "downtime", "incidents"):
            assert field in shown
        assert "(index)" not in shown
        page.mouse.move(0, 0)
        screenshot(page, "status-page-20-monitors")
        assert "s7.example" not in page.content()

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
