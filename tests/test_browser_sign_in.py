"""Signing in as a browser does it: the cookie holds across reloads and tabs, logout ends it,
wrong passwords lock the client out, and a deep link comes back after the sign-in."""

import re
from pathlib import Path

import pytest

from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.server_process import running_upwatch

pytestmark = pytest.mark.browser

PASSWORD = "open sesame"


def _sign_in(page, password: str = PASSWORD) -> None:
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_sign_in_lasts_across_reloads_and_tabs_until_logout(
    tmp_path: Path, isolated_settings: Path
) -> None:
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
           "UPWATCH_ADMIN_PASSWORD": PASSWORD}
    with chromium_page() as page, running_upwatch(
        free_port(), env, tmp_path / "server.log"
    ) as server:
        # Not signed in: `/` is the public status page, with a small sign-in link.
        page.goto(server.url)
        page.wait_for_selector(READY)
        page.get_by_text("All systems operational").wait_for()
        page.get_by_role("link", name="Operator sign-in").wait_for()
        assert page.get_by_role("heading", name="Monitors").count() == 0
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0

        # A deep link while signed out asks to sign in, then lands where it pointed.
        page.goto(f"{server.url}/incidents")
        page.wait_for_selector(READY)
        page.get_by_text("Upwatch — sign in required").wait_for()
        page.get_by_role("link", name="Sign in").click()
        page.wait_for_url(re.compile(r"/login\?next=%2Fincidents$"))
        _sign_in(page)
        page.wait_for_url(f"{server.url}/incidents")
        page.wait_for_selector(READY)
        page.get_by_role("heading", name="Incidents").first.wait_for()
        assert page.get_by_text("Upwatch — sign in required").count() == 0

        page.reload()
        page.wait_for_selector(READY)
        page.get_by_role("heading", name="Incidents").first.wait_for()
        assert page.get_by_text("Upwatch — sign in required").count() == 0

        second = page.context.new_page()
        second.goto(server.url)
        second.wait_for_selector(READY)
        second.get_by_role("heading", name="Monitors").wait_for()
        screenshot(second, "signed-in-second-tab")
        second.close()

        cookie = next(c for c in page.context.cookies() if c["name"] == "upwatch_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]

        page.get_by_role("link", name="Sign out").click()
        page.wait_for_url(f"{server.url}/")
        page.wait_for_selector(READY)
        page.get_by_role("link", name="Operator sign-in").wait_for()
        assert not [c for c in page.context.cookies() if c["name"] == "upwatch_session"]
        page.goto(f"{server.url}/incidents")
        page.wait_for_selector(READY)
        page.get_by_text("Upwatch — sign in required").wait_for()

        # Six wrong passwords: the fifth locks this client out, and the page says until when.
        page.goto(f"{server.url}/login")
        for attempt in range(6):
            _sign_in(page, f"wrong-{attempt}")
            page.wait_for_load_state()
        text = page.locator("body").inner_text()
        assert re.search(r"Too many wrong passwords\. Try again after \d\d:\d\d UTC\.", text), text
        screenshot(page, "sign-in-locked")
        _sign_in(page)
        page.wait_for_load_state()
        assert "Too many wrong passwords" in page.locator("body").inner_text()
        assert "wrong-" not in server.log()
        assert "locked out" in server.log()
