"""Crash safety: SIGKILL while a page is on the wire, restart, and every page arrives once.

The fake Slack holds the request it is told to hold; the test kills Upwatch with SIGKILL while it
waits, then lets the fake answer 503 (the provider never took the message). After a restart the
page must arrive exactly once, and a page already delivered must never be sent again.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.fakes import HoldingSlack
from tests.server_process import running_upwatch, wait_until
from tests.switchable_target import SwitchableTarget

AUTH = {"Authorization": "Bearer s3cret-token"}


def test_pages_survive_sigkill_mid_delivery_exactly_once(
    tmp_path: Path, isolated_settings: Path
) -> None:
    slack = HoldingSlack()
    env = {
        "UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
        "UPWATCH_ADMIN_PASSWORD": "pw", "UPWATCH_API_TOKEN": "s3cret-token",
        "UPWATCH_SLACK_WEBHOOK_URL": slack.url,
    }
    target = SwitchableTarget(free_port()).start()
    port, log = free_port(), tmp_path / "server.log"
    try:
        with running_upwatch(port, env, log) as server:
            created = httpx.post(f"{server.url}/api/v1/monitors", headers=AUTH, timeout=5, json={
                "name": "Target", "url": target.url, "interval": 10, "timeout": 2,
                "retry_interval": 5, "failures_before_down": 1})
            assert created.status_code == 201, created.text
            wait_until(lambda: _state(server.url) == "up", 20, "up")
            slack.hold()
            target.stop()
            assert slack.holding.wait(25), server.log()
            server.process.send_signal(signal.SIGKILL)  # the page is on the wire
            server.process.wait(5)
        slack.answer(503)
        with running_upwatch(port, env, log) as server:
            wait_until(lambda: len(slack.accepted) == 1, 20, "the page after restart")
            assert slack.accepted[0].startswith("DOWN: Target is down")
            slack.hold()
            target.start()
            assert slack.holding.wait(25), server.log()
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(5)
        slack.answer(503)
        with running_upwatch(port, env, log) as server:
            wait_until(lambda: len(slack.accepted) == 2, 20, "the recovery after restart")
            time.sleep(2)  # a duplicate would have had time to arrive
            assert [t.split(":")[0] for t in slack.accepted] == ["DOWN", "UP"], server.log()
            server.stop(signal.SIGTERM)
    finally:
        target.stop()
        slack.server.shutdown()


def _state(url: str) -> str:
    return httpx.get(f"{url}/api/v1/monitors/target", headers=AUTH, timeout=5).json()["state"]
