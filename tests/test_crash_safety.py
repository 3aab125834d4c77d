"""Crash safety: SIGKILL while a page is on the wire, restart, and every page arrives once.

The fake Slack holds the request it is told to hold; the test kills Upwatch with SIGKILL while it
waits, then lets the fake answer 503 (the provider never took the message). After a restart the
page must arrive exactly once, and a page already delivered must never be sent again.
"""

from __future__ import annotations

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.server_process import running_upwatch, wait_until
from tests.switchable_target import SwitchableTarget

AUTH = {"Authorization": "Bearer s3cret-token"}


class HoldingSlack:
    """Answers 200 and records the text, except for a request it was told to hold."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.hold_next = False
        self.holding = threading.Event()
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                text = httpx.Response(200, content=body).json()["text"]
                if fake.hold_next:
                    fake.hold_next = False
                    fake.holding.set()
                    fake.release.wait(30)
                    self._answer(503, b"service_unavailable")
                    return
                fake.accepted.append(text)
                self._answer(200, b"ok")

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client is dead

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def hold(self) -> None:
        self.holding.clear()
        self.release.clear()
        self.hold_next = True


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
        slack.release.set()
        with running_upwatch(port, env, log) as server:
            wait_until(lambda: len(slack.accepted) == 1, 20, "the page after restart")
            assert slack.accepted[0].startswith("DOWN: Target is down")
            slack.hold()
            target.start()
            assert slack.holding.wait(25), server.log()
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(5)
        slack.release.set()
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
