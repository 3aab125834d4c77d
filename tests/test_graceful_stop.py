"""Graceful stop: SIGTERM to `upwatch serve` mid-outage lets the page on the wire finish and its
outcome be recorded, and the process exits 0: a page the provider took is never sent again, one
it refused is sent after the restart. Either way every page arrives exactly once.

The fake Slack holds the request it is told to hold until the test releases it with an answer;
the test releases it only once the server has begun stopping (its probe engine has stopped),
so the send is in flight while the server stops.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.conftest import free_port
from tests.fakes import HoldingSlack
from tests.server_process import ROOT, UpwatchServer, running_server, wait_until
from tests.switchable_target import SwitchableTarget

AUTH = {"Authorization": "Bearer s3cret-token"}


def _serve(port: int, env: dict[str, str], log: Path):
    command = [sys.executable, "-m", "composition.cli", "serve", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    return running_server(command, port, ROOT, {**os.environ, **env}, log)


def _stop_while_the_page_is_held(server: UpwatchServer, slack: HoldingSlack, status: int) -> int:
    """SIGTERM while the fake holds a page; answer it with `status` once the server has begun
    stopping. The server's exit status."""
    assert slack.holding.wait(25), server.log()
    stopped_before = server.log().count("probe engine stopped")
    server.process.send_signal(signal.SIGTERM)
    wait_until(lambda: server.log().count("probe engine stopped") > stopped_before
               or server.process.poll() is not None, 20, "the server to begin stopping")
    slack.answer(status)
    return server.process.wait(timeout=30)


def _deliveries(database: Path) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return [(row.kind, row.status) for row in connection.execute(
                text("SELECT kind, status FROM delivery ORDER BY id"))]
    finally:
        engine.dispose()


def test_sigterm_mid_outage_finishes_the_send_exits_0_and_pages_exactly_once(
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
        with _serve(port, env, log) as server:
            created = httpx.post(f"{server.url}/api/v1/monitors", headers=AUTH, timeout=5, json={
                "name": "Target", "url": target.url, "interval": 10, "timeout": 2,
                "failures_before_down": 1})
            assert created.status_code == 201, created.text
            wait_until(lambda: _state(server.url) == "up", 20, "up")
            slack.hold()
            target.stop()  # the outage: its DOWN page is held, then refused during the stop
            _check_at_once(server.url, timeout=3)
            assert _stop_while_the_page_is_held(server, slack, 503) == 0, server.log()
        assert slack.accepted == []
        assert _deliveries(isolated_settings) == [("down", "pending")]

        with _serve(port, env, log) as server:
            wait_until(lambda: len(slack.accepted) == 1, 25, "the DOWN page after the restart")
            assert slack.accepted[0].startswith("DOWN: Target is down"), server.log()
            wait_until(lambda: _deliveries(isolated_settings) == [("down", "delivered")], 10,
                       "the DOWN page recorded as delivered")
            slack.hold()
            target.start()  # the recovery: its UP page is held, then taken during the stop
            _check_at_once(server.url, timeout=2)
            assert _stop_while_the_page_is_held(server, slack, 200) == 0, server.log()
        # Taken during the stop and recorded so: a delivered page is never sent again.
        assert [t.split(":")[0] for t in slack.accepted] == ["DOWN", "UP"]
        assert _deliveries(isolated_settings) == [("down", "delivered"), ("up", "delivered")]
    finally:
        target.stop()
        slack.server.shutdown()


def _check_at_once(url: str, timeout: int) -> None:
    """An edited monitor is checked at once: no wait for its next 10 s round."""
    edited = httpx.patch(f"{url}/api/v1/monitors/target", headers=AUTH, timeout=5,
                         json={"timeout": timeout})
    assert edited.status_code == 200, edited.text


def _state(url: str) -> str:
    return httpx.get(f"{url}/api/v1/monitors/target", headers=AUTH, timeout=5).json()["state"]


def test_a_stopping_dispatcher_waits_for_a_send_in_flight_no_longer_than_its_timeout(
        isolated_settings: Path) -> None:
    """Past the timeout the send is left to its lease, kept fresh while the stop waited; the
    send still records its outcome if it ends while the process lives."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select

    from config.settings import get_settings
    from domain.monitor_input import parse_monitor_input
    from domain.result import ProbeResult
    from notifiers.dispatcher import Dispatcher
    from storage.alerting_models import AlertChannel, Delivery
    from storage.db import get_engine
    from storage.monitors import create_monitor
    from storage.results import record_result
    from storage.tables import table_of, utc

    slack = HoldingSlack()
    deliveries = table_of(Delivery)
    with get_engine().begin() as connection:
        connection.execute(insert(table_of(AlertChannel)).values(
            name="ops", kind="slack_webhook", config={}, secrets={"webhook_url": slack.url},
            events=["down", "up"]))
    monitor_id = create_monitor(parse_monitor_input(
        {"name": "API", "url": "http://127.0.0.1:1/"})).id
    began = datetime.now(UTC) - timedelta(seconds=10)
    record_result(monitor_id, ProbeResult("up", began))
    record_result(monitor_id, ProbeResult("down", began + timedelta(seconds=1), reason="x"))

    def delivery() -> dict:
        with get_engine().connect() as connection:
            return dict(connection.execute(select(deliveries)).mappings().one())

    slack.hold()
    dispatcher = Dispatcher(get_engine(), get_settings(), poll_s=0.2)
    dispatcher.start()
    try:
        assert slack.holding.wait(10)
        claimed_lease = utc(delivery()["lease_until"])
        started = time.monotonic()
        dispatcher.stop(timeout_s=1.5)
        assert 1.4 <= time.monotonic() - started < 4
        left = delivery()
        assert left["status"] == "sending" and utc(left["lease_until"]) > claimed_lease
        slack.answer(200)
        wait_until(lambda: delivery()["status"] == "delivered", 10, "the late outcome")
        assert len(slack.accepted) == 1
    finally:
        slack.answer(200)
        slack.server.shutdown()
