"""The whole server as a user runs it: checks happen, failures show, restarts keep everything."""

import signal
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.server_process import running_upwatch, wait_until
from tests.switchable_target import SwitchableTarget

AUTH = {"Authorization": "Bearer s3cret-token"}


def monitor_state(url: str, slug: str) -> dict:
    return httpx.get(f"{url}/api/v1/monitors/{slug}", headers=AUTH, timeout=5).json()


def test_it_probes_reports_failures_and_survives_a_restart(
    tmp_path: Path, isolated_settings: Path
) -> None:
    env = {
        "UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
        "UPWATCH_ADMIN_PASSWORD": "pw",
        "UPWATCH_API_TOKEN": "s3cret-token",
    }
    target = SwitchableTarget(free_port()).start()
    port = free_port()
    log = tmp_path / "server.log"
    try:
        with running_upwatch(port, env, log) as server:
            created = httpx.post(
                f"{server.url}/api/v1/monitors", headers=AUTH, timeout=5,
                json={"name": "Target", "url": target.url, "interval": 10, "timeout": 2,
                      "failures_before_down": 1},  # down at the first refused check
            )
            assert created.status_code == 201, created.text
            up = wait_until(lambda: monitor_state(server.url, "target")["state"] == "up", 15, "up")
            assert up
            first = monitor_state(server.url, "target")
            assert first["latency_ms"] is not None and first["last_check_at"]

            target.stop()
            down = wait_until(
                lambda: (m := monitor_state(server.url, "target"))["state"] == "down" and m,
                25, "down",
            )
            assert down["reason"] == "connection refused"
            # Badges skip Streamlit's middleware: a 1 kB+ SVG would otherwise come back gzipped.
            badge = httpx.get(f"{server.url}/badge/status.svg", timeout=5,
                              headers={"Accept-Encoding": "gzip"})
            assert badge.status_code == 200 and len(badge.content) > 1000
            assert badge.headers["content-type"] == "image/svg+xml"
            assert "content-encoding" not in badge.headers
            assert server.stop(signal.SIGTERM) < 10, server.log()

        target.start()
        with running_upwatch(port, env, log) as again:
            kept = monitor_state(again.url, "target")
            assert (kept["name"], kept["reason"]) == ("Target", "connection refused")
            wait_until(lambda: monitor_state(again.url, "target")["state"] == "up", 25, "recovery")
            assert again.stop(signal.SIGINT) < 10, again.log()
    finally:
        target.stop()
