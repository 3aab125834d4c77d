"""The link in a page opens what it names: the monitor's detail, after a sign-in if needed.

The whole path a person on call takes: the target goes down, Upwatch pages Slack (a local server
that records what the official SDK sent), the link is taken from that recorded payload and opened
in a fresh Chromium that is not signed in.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port
from tests.fakes import FakeHTTPServer
from tests.server_process import running_upwatch, wait_until
from tests.switchable_target import SwitchableTarget

pytestmark = pytest.mark.browser

AUTH = {"Authorization": "Bearer link-token"}
PASSWORD = "paged at night"


def test_a_link_from_a_slack_page_opens_that_monitors_detail_after_sign_in(
    tmp_path: Path, isolated_settings: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    target = SwitchableTarget(free_port()).start()
    with FakeHTTPServer() as slack:
        env = {
            "UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
            "UPWATCH_ADMIN_PASSWORD": PASSWORD, "UPWATCH_API_TOKEN": "link-token",
            "UPWATCH_SLACK_WEBHOOK_URL": f"{slack.url}/hook", "UPWATCH_PUBLIC_URL": base,
        }
        try:
            with running_upwatch(port, env, tmp_path / "server.log") as server, \
                    chromium_page() as page:
                for name in ("Billing", "Checkout API"):  # the link must pick the right one
                    created = httpx.post(f"{base}/api/v1/monitors", headers=AUTH, timeout=5, json={
                        "name": name, "url": target.url, "interval": 10, "timeout": 2,
                        "retry_interval": 5, "failures_before_down": 1})
                    assert created.status_code == 201, created.text
                wait_until(lambda: _state(base, "checkout-api") == "up", 20, "up")
                target.stop()
                pages = slack.wait_for(2, timeout=30)
                payload = next(r.body.decode() for r in pages if b"Checkout API" in r.body)
                links = set(re.findall(r"http://127\.0\.0\.1:\d+/monitor\?slug=[\w%.-]+",
                                       payload))
                assert links == {f"{base}/monitor?slug=checkout-api"}, (payload, server.log())

                page.goto(links.pop())
                page.wait_for_selector(READY)
                page.get_by_role("link", name="Sign in").click()
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base}/monitor?slug=checkout-api*")
                page.wait_for_selector(READY)
                page.get_by_role("heading", name="Checkout API").wait_for()
                assert page.get_by_role("heading", name="Billing").count() == 0
                screenshot(page, "notification-link-detail")
        finally:
            target.stop()


def _state(base: str, slug: str) -> str:
    answer = httpx.get(f"{base}/api/v1/monitors/{slug}", headers=AUTH, timeout=5)
    return str(answer.json().get("state"))
