"""What a person does: sign in, add a monitor, see it on the status page and in a badge."""

from pathlib import Path

import pytest

from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.server_process import running_upwatch
from tests.switchable_target import SwitchableTarget

pytestmark = pytest.mark.browser


def test_a_person_adds_a_monitor_and_sees_it_go_up_and_down(
    tmp_path: Path, isolated_settings: Path
) -> None:
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
           "UPWATCH_ADMIN_PASSWORD": "open sesame"}
    target = SwitchableTarget(free_port()).start()
    try:
        with chromium_page() as page, running_upwatch(
            free_port(), env, tmp_path / "server.log"
        ) as server:
            # A first visit straight to the public page gets it alone: no menu of internal pages.
            page.goto(f"{server.url}/status")
            page.wait_for_selector(READY)
            page.get_by_text("All systems operational").wait_for()
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0

            # `/` shows a visitor the status page; its sign-in link comes back to `/`.
            page.goto(server.url)
            page.wait_for_selector(READY)
            page.get_by_role("link", name="Operator sign-in").click()
            page.get_by_label("Password").fill("open sesame")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Monitors").wait_for()

            page.get_by_label("Name", exact=True).fill("Checkout")
            page.get_by_label("URL", exact=True).fill(target.url)
            page.get_by_label("Check interval (seconds)").fill("10")
            page.get_by_label("Timeout (seconds)").fill("2")
            page.get_by_text("Confirmation").click()  # down at the first failed check
            page.get_by_label("Down after this many failures in a row").fill("1")
            page.get_by_text("Show on the public status page").click()
            page.get_by_role("button", name="Add monitor").click()
            page.get_by_text("Added 'Checkout'").wait_for()

            page.goto(f"{server.url}/status")
            page.wait_for_selector(READY)
            page.get_by_text("Checkout", exact=True).first.wait_for()
            page.get_by_text("🟢 up").wait_for(timeout=30_000)
            page.get_by_text("All systems operational").wait_for()
            screenshot(page, "status-up")

            badge_html = f'<img id="badge" src="{server.url}/badge/checkout/status.svg">'
            badge_page = page.context.new_page()
            badge_page.set_content(badge_html)
            badge_page.wait_for_function(
                "() => document.getElementById('badge').complete", timeout=10_000
            )
            width = badge_page.evaluate("document.getElementById('badge').naturalWidth")
            assert width > 0, "the badge image did not load"
            badge_page.close()

            target.stop()
            page.get_by_text("🔴 down").wait_for(timeout=45_000)
            page.get_by_text("Major outage").wait_for()
            screenshot(page, "status-down")
            assert f":{target.port}" not in page.content()  # the monitor's URL stays private
    finally:
        target.stop()
