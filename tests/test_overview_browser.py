"""The overview in a real browser: p95 sorts as a number, a filter in the address, bulk pause."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import create_monitor, list_monitors, set_paused
from storage.results import record_result
from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.server_process import running_upwatch
from tests.switchable_target import SwitchableTarget
from ui.overview import REFRESH_S


@contextmanager
def closing_target(target: SwitchableTarget) -> Iterator[SwitchableTarget]:
    try:
        yield target
    finally:
        target.stop()

pytestmark = pytest.mark.browser

PASSWORD = "overview at a glance"
GRID = '[data-testid="stDataFrame"]'
ROW_PX = 35  # Streamlit's row height; the header row is as tall
MARKER_PX = 33  # the column of row checkboxes
# The columns before "p95 24 h" and their widths (ui/overview_table.py).
BEFORE_P95_PX = 105 + 150 + 65 + 105 + 105


def _seed(healthy_url: str) -> None:
    """Three paused monitors with a p95 of 700, 9 and 80 ms (as text, "700 ms" < "80 ms" <
    "9 ms"), one the engine finds down, three the engine finds up."""
    at = datetime.now(UTC) - timedelta(minutes=2)
    for name, latency in (("Alpha", 700.0), ("Bravo", 9.0), ("Charlie", 80.0)):
        monitor = create_monitor(parse_monitor_input(
            {"name": name, "url": f"http://127.0.0.1:9/{name.lower()}"}))
        set_paused(monitor.slug, True)
        record_result(monitor.id, ProbeResult("up", checked_at=at, latency_ms=latency))
    # Nothing listens on port 9: the engine finds it down.
    create_monitor(parse_monitor_input({"name": "Delta", "url": "http://127.0.0.1:9/down",
                                        "interval": 10, "timeout": 2, "failures_before_down": 1}))
    for name in ("Echo", "Foxtrot", "Golf"):
        create_monitor(parse_monitor_input(
            {"name": name, "url": healthy_url, "interval": 10, "timeout": 2}))


def _names(page) -> list[str]:
    """The grid's rows as drawn, read from its accessible table: the Name cells in order."""
    cells = page.locator(f'{GRID} table [role="row"]')
    rows = [cells.nth(i).locator('[role="gridcell"]').all_inner_texts()
            for i in range(cells.count())]
    return [row[1] for row in rows if len(row) > 1]


def _wait_for_rows(page, check, seconds: int = 15) -> list[str]:
    """The names once `check(names)` holds (the grid draws, and refreshes, asynchronously)."""
    names: list[str] = []
    for _ in range(seconds * 4):
        names = _names(page)
        if check(names):
            return names
        page.wait_for_timeout(250)
    raise AssertionError(f"the grid showed {names}")


def _click_grid(page, x: float, row: int) -> None:
    """Click the grid's canvas at `x` px from its left edge, in `row` (0: the header)."""
    box = page.locator(f"{GRID} canvas").first.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + ROW_PX * row + ROW_PX / 2)


def test_sorting_filtering_by_address_and_pausing_three_at_once(
    tmp_path: Path, isolated_settings: Path
) -> None:
    target = SwitchableTarget(free_port()).start()
    _seed(target.url)
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
           "UPWATCH_ADMIN_PASSWORD": PASSWORD}
    with closing_target(target), chromium_page() as page, running_upwatch(
        free_port(), env, tmp_path / "server.log"
    ) as server:
        page.goto(f"{server.url}/login?next=/")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector(READY)
        page.locator(f"{GRID} canvas").first.wait_for()
        everyone = ["Delta", "Alpha", "Bravo", "Charlie", "Echo", "Foxtrot", "Golf"]
        # Once the engine's first checks are in and the table refreshed: the down one first.
        _wait_for_rows(page, lambda names: names == everyone, seconds=45)
        screenshot(page, "overview")

        _click_grid(page, MARKER_PX + BEFORE_P95_PX + 40, 0)  # the "p95 24 h" header
        page.wait_for_timeout(500)
        by_p95 = [n for n in _names(page) if n in ("Alpha", "Bravo", "Charlie")]
        assert by_p95 == ["Bravo", "Charlie", "Alpha"], _names(page)  # 9, 80, 700 ms

        page.goto(f"{server.url}/?state=down")
        page.wait_for_selector(READY)
        _wait_for_rows(page, lambda names: names == ["Delta"])
        assert "1 of 7 monitors" in page.inner_text('[data-testid="stMain"]')

        page.goto(server.url)  # the filter is gone with the address
        page.wait_for_selector(READY)
        _wait_for_rows(page, lambda names: names == everyone)
        for row in (5, 6, 7):  # Echo, Foxtrot, Golf (row 0 is the header)
            _click_grid(page, MARKER_PX / 2, row)
        page.get_by_text("3 monitors selected").wait_for()
        # The table refreshes itself every REFRESH_S seconds: the selection survives it.
        page.wait_for_timeout((REFRESH_S + 2) * 1000)
        assert page.get_by_text("3 monitors selected").is_visible()
        assert _names(page) == everyone
        page.get_by_role("button", name="Pause").click()
        page.get_by_text("Paused 3 monitors.").wait_for()
        paused = {m.name for m in list_monitors() if m.paused}
        assert paused == {"Alpha", "Bravo", "Charlie", "Echo", "Foxtrot", "Golf"}
        page.get_by_text("Select rows to act on several monitors at once").wait_for()
