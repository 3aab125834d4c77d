"""End to end: a real local target turning slow makes the running engine fire a latency rule
once (one notice through the outbox to a webhook), and resolve it once when it is fast again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import insert, select, update

from checks.engine import ProbeEngine
from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from domain.window_rules import WindowRule, rule_to_stored
from notifiers.dispatcher import Dispatcher
from storage.alerting_models import AlertChannel, Delivery
from storage.db import get_engine
from storage.models import Monitor
from storage.monitors import create_monitor
from storage.results import record_result
from tests.fakes import FakeHTTPServer


class _Target:
    """Answers 200 after `delay_s`."""

    def __init__(self) -> None:
        self.delay_s = 0.0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(target.delay_s)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def target() -> Iterator[_Target]:
    running = _Target()
    yield running
    running.server.shutdown()
    running.server.server_close()


def _deliver_until(dispatcher: Dispatcher, hook: FakeHTTPServer, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(hook.requests) < count:
        assert time.monotonic() < deadline, f"{len(hook.requests)} notices, wanted {count}"
        dispatcher.run_once()
        time.sleep(0.05)


def test_a_slow_target_fires_the_rule_once_and_a_fast_one_resolves_it_once(
    target: _Target,
) -> None:
    rule = WindowRule("latency", 150.0, "critical", window_minutes=1, percentile=50)
    monitor = create_monitor(parse_monitor_input(
        {"name": "Checkout", "url": target.url, "interval": 10, "timeout": 2}))
    with get_engine().begin() as connection:
        # Once a second (below what users may choose), to see several checks in a short test.
        connection.execute(update(Monitor.__table__).where(Monitor.__table__.c.id == monitor.id)
                           .values(interval=1, rules=[rule_to_stored(rule)],
                                   updated_at=datetime.now(UTC)))
    # A check from before the window: the monitor was watched through all of it.
    record_result(monitor.id, ProbeResult("up", datetime.now(UTC) - timedelta(seconds=61),
                                          latency_ms=5.0))
    dispatcher = Dispatcher(get_engine(), get_settings())
    with FakeHTTPServer() as hook:
        with get_engine().begin() as connection:
            connection.execute(insert(AlertChannel.__table__).values(
                name="hook", kind="webhook", config={"url": hook.url}, secrets={},
                events=["down", "up"]))
        dispatcher.prepare()
        engine = ProbeEngine(sync_every_s=0.2, first_run_spread_s=0.1)
        target.delay_s = 0.3
        engine.start()
        try:
            _deliver_until(dispatcher, hook, 1)
            target.delay_s = 0.0
            _deliver_until(dispatcher, hook, 2)
        finally:
            engine.stop()
        dispatcher.run_once()
        time.sleep(0.3)
        dispatcher.run_once()
        dispatcher._pool.shutdown(wait=True)
        sent = [request.json() for request in hook.requests]
    assert [notice["kind"] for notice in sent] == ["rule_firing", "rule_resolved"]
    assert sent[0]["reason"].startswith("p50 above 150 ms for 1 min: ")
    assert float(sent[0]["reason"].split(": ")[1].removesuffix(" ms")) > 150
    assert sent[0]["text"].startswith("ALERT: Checkout: an alert rule fired")
    with get_engine().connect() as connection:
        kinds = connection.execute(select(Delivery.__table__.c.kind)).scalars().all()
    assert sorted(kinds) == ["rule_firing", "rule_resolved"]
