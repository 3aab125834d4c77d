"""From the failing check that confirms an outage to the fake Slack receiving the page.

Runs the real path in one process: BatchWriter (as the probe engine uses it) -> record_batch
(result + state change + incident in one transaction) -> Dispatcher (woken by the writer) ->
SlackWebhookChannel -> a local fake Slack. Prints median and p99 over 50 outages.

    python bench/alert_latency.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OUTAGES = 50


def main() -> None:
    scratch = tempfile.mkdtemp()
    os.environ["UPWATCH_DATABASE_URL"] = f"sqlite:///{scratch}/bench.db"
    from sqlalchemy import update

    from config.settings import get_settings
    from domain.monitor_input import parse_monitor_input
    from domain.result import ProbeResult
    from notifiers.dispatcher import Dispatcher
    from storage import alerting
    from storage.alerting_models import AlertSettings
    from storage.batch_writer import BatchWriter
    from storage.db import get_engine
    from storage.monitors import create_monitor
    from tests.fakes import FakeHTTPServer

    with FakeHTTPServer() as slack:
        os.environ["UPWATCH_SLACK_WEBHOOK_URL"] = slack.url + "/hook"
        get_settings.cache_clear()
        engine = get_engine()
        with engine.begin() as connection:
            alerting.alert_settings(connection)  # no flapping verdicts: each outage is paged
            connection.execute(update(AlertSettings.__table__).values(flap_changes=10_000))
        monitor_id = create_monitor(
            parse_monitor_input({"name": "Bench", "url": "http://127.0.0.1:1/"})).id
        dispatcher = Dispatcher(engine)
        dispatcher.start()
        writer = BatchWriter(on_recorded=dispatcher.wake)
        writer.start()
        latencies: list[float] = []
        at = datetime.now(UTC) - timedelta(hours=1)
        for outage in range(OUTAGES):
            writer.submit(monitor_id, ProbeResult("up", at))
            at += timedelta(seconds=1)
            slack.wait_for(2 * outage, timeout=10)  # the previous recovery has arrived
            began = time.perf_counter()
            writer.submit(monitor_id, ProbeResult("down", at, reason="HTTP 503"))
            slack.wait_for(2 * outage + 1, timeout=10)
            latencies.append((time.perf_counter() - began) * 1000)
            at += timedelta(seconds=1)
        writer.stop()
        dispatcher.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    print(f"outages: {len(latencies)}")
    print(f"confirming check -> Slack received: median {statistics.median(latencies):.0f} ms, "
          f"p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms")


if __name__ == "__main__":
    main()
