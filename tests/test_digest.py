"""The hourly digest: a severity sent to it pages nobody; once its hour is over each channel gets
one message listing what changed, planned once under its (channel, hour) key, so neither a
restart nor a second dispatcher sends it again; an hour with nothing collected sends nothing.
Planning by two dispatchers runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from alerting.digest import digest_hour, hour_from_number, hour_number, is_over
from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from notifiers.dispatcher import Dispatcher
from storage import digests
from storage.alerting_admin import save_escalation_settings
from storage.alerting_models import AlertChannel, Delivery
from storage.db import get_engine
from storage.deliveries import plan_new_events
from storage.escalation_models import Digest, DigestEntry
from storage.models import Monitor
from storage.monitors import create_monitor
from storage.results import record_result
from storage.tables import utc
from tests.fakes import FakeHTTPServer
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

DELIVERIES = Delivery.__table__
ENTRIES = DigestEntry.__table__


@pytest.mark.parametrize(("at", "hour"), [
    (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 0, tzinfo=UTC)),
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC)),
    # a zone's clock change does not move a UTC hour
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin")),
     datetime(2026, 3, 29, 1, tzinfo=UTC)),
])
def test_a_change_is_listed_in_the_utc_hour_it_happened(at: datetime, hour: datetime) -> None:
    assert digest_hour(at) == hour
    assert hour_from_number(hour_number(hour)) == hour
    assert not is_over(hour, hour + timedelta(minutes=59, seconds=59))
    assert is_over(hour, hour + timedelta(hours=1))


def _channel(server: FakeHTTPServer, name: str) -> int:
    with get_engine().begin() as connection:
        return connection.execute(insert(AlertChannel.__table__).values(
            name=name, kind="slack_webhook", config={},
            secrets={"webhook_url": server.url + "/hook"},
            events=["down", "up", "degraded", "certificate", "maintenance"],
        )).inserted_primary_key[0]


def _monitor(name: str, severity: str) -> int:
    monitor_id = create_monitor(parse_monitor_input(
        {"name": name, "url": "http://127.0.0.1:1/"})).id
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).where(Monitor.__table__.c.id == monitor_id)
                           .values(severity=severity))
    return monitor_id


def _rows(table, *where) -> list[dict]:
    with get_engine().connect() as connection:
        return [dict(r) for r in connection.execute(select(table).where(*where)).mappings()]


@pytest.fixture
def slack() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


def test_a_low_outage_pages_nobody_and_is_listed_once_in_the_next_hour(
    slack: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _channel(slack, "ops")
    save_escalation_settings({"digest": ["low"]}, actor="admin")
    low, high = _monitor("Reports <b>", "low"), _monitor("Checkout", "high")
    hour = digest_hour(datetime.now(UTC)) - timedelta(hours=3)
    record_result(low, ProbeResult("down", hour + timedelta(minutes=10), reason="HTTP 503"))
    record_result(low, ProbeResult("up", hour + timedelta(minutes=20)))
    clock = {"now": hour + timedelta(minutes=30)}
    monkeypatch.setattr("notifiers.dispatcher.now_utc", lambda: clock["now"])

    def run_at(minutes: float) -> None:
        """A fresh dispatcher (a restart) runs its rounds at `minutes` past the hour."""
        clock["now"] = hour + timedelta(minutes=minutes)
        dispatcher = Dispatcher(get_engine(), get_settings())
        dispatcher.prepare()
        deadline = time.monotonic() + 8
        try:
            for _ in range(3):
                dispatcher._housekeeping_at = 0
                dispatcher.run_once()
                while dispatcher._in_flight:
                    assert time.monotonic() < deadline, "sends still in flight"
                    time.sleep(0.02)
        finally:
            dispatcher._pool.shutdown(wait=True)

    run_at(30)  # within the hour: collected, nothing sent
    assert slack.requests == [] and _rows(DELIVERIES) == []
    assert [e["kind"] for e in _rows(ENTRIES)] == ["down", "up"]

    run_at(61)  # the hour is over: one digest
    (sent,) = slack.requests
    text = sent.json()["text"]
    assert text.startswith("DIGEST: Hourly digest") and "2 changes" in text
    listing = sent.json()["blocks"][1]["fields"][2]["text"]
    assert "Reports &lt;b&gt; is down (HTTP 503)" in listing  # the name escaped for mrkdwn
    assert "Reports &lt;b&gt; is back up" in listing
    assert listing.index("is down") < listing.index("is back up")

    run_at(62)  # a restart sends nothing again
    run_at(125)  # nothing collected in the next hour: nothing sent
    assert len(slack.requests) == 1
    (digest,) = _rows(Digest.__table__)
    (delivery,) = _rows(DELIVERIES)
    assert (delivery["kind"], delivery["status"], delivery["id"]) == (
        "digest", "delivered", digest["delivery_id"])

    # A high monitor still pages at once.
    record_result(high, ProbeResult("down", clock["now"] - timedelta(seconds=5),
                                    reason="HTTP 500"))
    run_at(125)
    assert len(slack.requests) == 2 and slack.requests[1].json()["text"].startswith("DOWN")


@pytest.mark.usefixtures("backend")
def test_a_second_dispatcher_plans_no_second_digest_and_a_late_change_waits_an_hour(
    slack: FakeHTTPServer,
) -> None:
    channel_id = _channel(slack, "ops")
    save_escalation_settings({"digest": ["low"]}, actor="admin")
    low = _monitor("Reports", "low")
    hour = digest_hour(datetime.now(UTC)) - timedelta(hours=3)
    record_result(low, ProbeResult("down", hour + timedelta(minutes=10), reason="HTTP 503"))
    now = hour + timedelta(minutes=61)
    engine = get_engine()
    assert digests.plan_due_digests(engine, now) == 0  # not collected yet: nothing to plan
    plan_new_events(engine, now)
    assert digests.plan_due_digests(engine, now) == 1
    assert digests.plan_due_digests(engine, now) == 0  # another dispatcher, the same hour
    # A change of that hour collected only now (a dispatcher was behind) goes to the open hour.
    record_result(low, ProbeResult("up", hour + timedelta(minutes=50)))
    plan_new_events(engine, now)
    assert digests.plan_due_digests(engine, now) == 0
    (late,) = _rows(ENTRIES, ENTRIES.c.delivery_id.is_(None))
    assert late["channel_id"] == channel_id and late["kind"] == "up"
    assert utc(late["hour"]) == digest_hour(now)
    assert digests.plan_due_digests(engine, now + timedelta(hours=1)) == 1
    assert len(_rows(DELIVERIES, DELIVERIES.c.kind == "digest")) == 2
