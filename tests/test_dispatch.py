"""The dispatcher through real channels against fakes at the wire: retries, permanent errors,
routing, escalation, reminders, acknowledgement, recovery to everyone paged. Each test runs on
SQLite and on PostgreSQL (where several dispatchers share one database)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from notifiers.dispatcher import Dispatcher
from storage import alerting, deliveries
from storage.alerting_models import AlertChannel, AlertSettings, Delivery, DeliveryAttempt
from storage.db import get_engine
from storage.models import Incident, IncidentUpdate, Monitor, StateChange
from storage.monitors import create_monitor
from storage.results import record_result
from tests.fakes import FakeHTTPServer, Reply
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

CHANNELS = AlertChannel.__table__
DELIVERIES = Delivery.__table__
ATTEMPTS = DeliveryAttempt.__table__
SID = "AC" + "0" * 32

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def slack() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


def add_channel(name: str, kind: str, config: dict, secrets: dict, **extra: object) -> int:
    with get_engine().begin() as connection:
        return connection.execute(insert(CHANNELS).values(
            name=name, kind=kind, config=config, secrets=secrets,
            events=["down", "up", "degraded", "certificate", "maintenance"], **extra,
        )).inserted_primary_key[0]


def slack_channel(server: FakeHTTPServer, name: str = "ops-slack", **extra: object) -> int:
    return add_channel(name, "slack_webhook", {}, {"webhook_url": server.url + "/hook"}, **extra)


def new_monitor(name: str = "API") -> int:
    return create_monitor(parse_monitor_input({"name": name, "url": "http://127.0.0.1:1/"})).id


T0 = datetime.now(UTC) - timedelta(seconds=30)


def go(monitor_id: int, outcome: str, seconds: float) -> None:
    record_result(monitor_id, ProbeResult(outcome, T0 + timedelta(seconds=seconds),  # type: ignore[arg-type]
                                          reason=None if outcome == "up" else "HTTP 503"))


def drain(dispatcher: Dispatcher, until, timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, "dispatcher did not finish in time"
        dispatcher.run_once()
        time.sleep(0.05)


def settle(dispatcher: Dispatcher, timeout_s: float = 8.0) -> None:
    """One more round, then until its sends finished: what was sent by now is all there is."""
    dispatcher.run_once()
    deadline = time.monotonic() + timeout_s
    while dispatcher._in_flight:
        assert time.monotonic() < deadline, "sends still in flight"
        time.sleep(0.02)


def nothing_left_to_send() -> bool:
    """No delivery would ever be due again: each one was delivered, failed or skipped."""
    far = datetime.now(UTC) + timedelta(days=2)
    return deliveries.due_deliveries(get_engine(), far, limit=10) == []


def rows(table, *where) -> list[dict]:
    with get_engine().connect() as connection:
        return [dict(r) for r in connection.execute(select(table).where(*where)).mappings()]


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    d = Dispatcher(get_engine(), get_settings())
    d.prepare()
    yield d
    d._pool.shutdown(wait=True)


def test_slack_500_then_429_then_200_is_delivered_exactly_once(
    slack: FakeHTTPServer, dispatcher: Dispatcher
) -> None:
    slack.enqueue(Reply(500, body=b"internal_error"), Reply(429, {"Retry-After": "1"}))
    channel_id = slack_channel(slack)
    monitor_id = new_monitor()
    go(monitor_id, "up", 0)
    go(monitor_id, "down", 1)  # pending -> up, then up -> down: one page
    began = time.monotonic()
    drain(dispatcher, lambda: [d["status"] for d in rows(DELIVERIES)] == ["delivered"])
    assert time.monotonic() - began >= 1.0  # Retry-After was honoured
    settle(dispatcher)
    assert nothing_left_to_send()
    assert len(slack.requests) == 3
    assert "API is down" in slack.requests[-1].json()["text"]
    attempts = rows(ATTEMPTS)
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "delivered"]
    assert "HTTP 500" in attempts[0]["error"] and "rate limited" in attempts[1]["error"]
    assert rows(CHANNELS, CHANNELS.c.id == channel_id)[0]["failing_since"] is None


def test_twilio_21211_is_not_retried_and_marks_the_channel_failing(
    dispatcher: Dispatcher
) -> None:
    with FakeHTTPServer(default=Reply.json(400, {
        "code": 21211, "message": "The 'To' number +1555 is not a valid phone number.",
        "status": 400})) as twilio:
        channel_id = add_channel("pager-sms", "sms", {
            "account_sid": SID, "sender": "+15005550006", "recipients": "+1555",
            "api_base": twilio.url}, {"auth_token": "tok"})
        monitor_id = new_monitor()
        go(monitor_id, "down", 0)
        drain(dispatcher, lambda: [d["status"] for d in rows(DELIVERIES)] == ["failed"])
        settle(dispatcher)
        assert nothing_left_to_send()
        assert len(twilio.requests) == 1
        assert twilio.requests[0].form()["To"] == ["+1555"]
    channel = rows(CHANNELS, CHANNELS.c.id == channel_id)[0]
    assert channel["failing_since"] is not None and "21211" in channel["failing_error"]
    assert [a["outcome"] for a in rows(ATTEMPTS)] == ["permanent"]


def test_down_opens_an_incident_and_recovery_closes_it_and_reaches_everyone_paged(
    slack: FakeHTTPServer, dispatcher: Dispatcher
) -> None:
    slack_channel(slack)
    with FakeHTTPServer() as hook:
        add_channel("hook", "webhook", {"url": hook.url + "/in"}, {})
        monitor_id = new_monitor()
        go(monitor_id, "up", 0)
        go(monitor_id, "down", 1)
        drain(dispatcher, lambda: len(slack.requests) == 1 and len(hook.requests) == 1)
        (incident,) = rows(Incident.__table__)
        assert incident["cause"] == "HTTP 503" and incident["resolved_at"] is None
        go(monitor_id, "up", 61)
        drain(dispatcher, lambda: len(slack.requests) == 2 and len(hook.requests) == 2)
        assert "back up" in slack.requests[1].json()["text"]
        assert hook.requests[1].json()["kind"] == "up"
    (incident,) = rows(Incident.__table__)
    assert incident["resolved_at"] is not None and incident["status"] == "resolved"
    timeline = [u["status"] for u in rows(IncidentUpdate.__table__)]
    assert timeline == ["investigating", "resolved"]


def test_escalation_waits_and_an_acknowledgement_stops_it(
    slack: FakeHTTPServer, dispatcher: Dispatcher
) -> None:
    slack_channel(slack)
    with FakeHTTPServer() as late:
        add_channel("escalation", "slack_webhook", {}, {"webhook_url": late.url + "/hook"},
                    escalate_after_minutes=10)
        monitor_id = new_monitor()
        go(monitor_id, "down", 0)
        drain(dispatcher, lambda: len(slack.requests) == 1)
        escalation = rows(DELIVERIES, DELIVERIES.c.channel_id != 1)[0]
        assert escalation["status"] == "pending" and escalation["needs_open_incident"]
        # Ten minutes pass: move the step's due time into the past.
        with get_engine().begin() as connection:
            connection.execute(update(DELIVERIES).values(next_attempt_at=T0))
            (incident_id,) = connection.execute(select(Incident.__table__.c.id)).scalars()
            assert alerting.acknowledge(connection, incident_id, "alice", datetime.now(UTC))
            assert not alerting.acknowledge(connection, incident_id, "bob", datetime.now(UTC))
        drain(dispatcher, lambda: rows(DELIVERIES, DELIVERIES.c.id == escalation["id"])[0]
              ["status"] == "skipped")
        assert late.requests == []
    assert rows(Incident.__table__)[0]["acknowledged_by"] == "alice"


def test_reminders_repeat_while_down_until_acknowledged(
    slack: FakeHTTPServer, dispatcher: Dispatcher
) -> None:
    slack_channel(slack)
    with get_engine().begin() as connection:
        alerting.alert_settings(connection)
        connection.execute(update(AlertSettings.__table__).values(remind_every_minutes=1))
    monitor_id = new_monitor()
    record_result(monitor_id, ProbeResult("down", T0 - timedelta(minutes=2, seconds=30),
                                          reason="HTTP 503"))
    drain(dispatcher, lambda: len(slack.requests) == 2)  # the page and reminder no. 2
    texts = [r.json()["text"] for r in slack.requests]
    assert texts[0].startswith("DOWN") and texts[1].startswith("STILL DOWN")
    dispatcher._housekeeping_at = 0  # plan reminders again in this round
    settle(dispatcher)
    # the same reminder is never planned twice
    assert [d["kind"] for d in rows(DELIVERIES)] == ["down", "reminder"]
    assert nothing_left_to_send()
    assert len(slack.requests) == 2


def test_flapping_sends_one_notice_until_it_settles(
    slack: FakeHTTPServer, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_channel(slack)
    with get_engine().begin() as connection:
        alerting.alert_settings(connection)
        connection.execute(update(AlertSettings.__table__).values(flap_changes=3))
    monitor_id = new_monitor()
    for step, outcome in enumerate("ududu"):
        go(monitor_id, {"u": "up", "d": "down"}[outcome], step)
    drain(dispatcher, lambda: len(slack.requests) >= 3)
    settle(dispatcher)
    assert nothing_left_to_send()
    kinds = [r.json()["text"].split(":")[0] for r in slack.requests]
    # pending->up, down, up are 3 changes; the 4th is flapping; the 5th says nothing.
    assert kinds == ["DOWN", "UP", "FLAPPING"]
    # Calm for a whole window (10 minutes, the clock moved on): one notice tells where it ended.
    later = datetime.now(UTC) + timedelta(minutes=11)
    monkeypatch.setattr("notifiers.dispatcher.now_utc", lambda: later)
    dispatcher._housekeeping_at = 0
    drain(dispatcher, lambda: len(slack.requests) == 4)
    assert "back up" in slack.requests[3].json()["text"]
    (settled,) = rows(StateChange.__table__, StateChange.__table__.c.kind == "settled")
    assert (settled["from_state"], settled["to_state"]) == ("flapping", "up")
    dispatcher._housekeeping_at = 0
    settle(dispatcher)
    assert nothing_left_to_send() and len(slack.requests) == 4  # settled once


def test_quiet_hours_keep_low_severity_monitors_off_a_channel(
    slack: FakeHTTPServer, dispatcher: Dispatcher
) -> None:
    # Quiet from an hour before the events to an hour after, whatever the time of day (the
    # window may span midnight).
    start, end = (f"{(T0 + timedelta(hours=h)):%H:%M}" for h in (-1, 1))
    channel_id = slack_channel(slack, quiet_start=start, quiet_end=end,
                               quiet_min_severity="critical")
    quiet_one, paged_one = new_monitor("Low"), new_monitor("Critical")
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).where(Monitor.__table__.c.id == paged_one)
                           .values(severity="critical"))
    go(quiet_one, "down", 0)
    go(paged_one, "down", 0)
    drain(dispatcher, lambda: len(slack.requests) == 1)
    settle(dispatcher)
    assert nothing_left_to_send()
    (page,) = rows(DELIVERIES)
    assert page["channel_id"] == channel_id and page["status"] == "delivered"
    assert [r.json()["text"].split(":")[0] for r in slack.requests] == ["DOWN"]
    assert "Critical" in slack.requests[0].json()["text"]


def test_an_acknowledgement_in_upwatch_acknowledges_the_pagerduty_incident(
    dispatcher: Dispatcher,
) -> None:
    with FakeHTTPServer(default=Reply.json(202, {"status": "success"})) as pagerduty, \
            FakeHTTPServer() as slack:
        add_channel("pd", "pagerduty", {"base_url": pagerduty.url}, {"routing_key": "R" * 32})
        slack_channel(slack)
        monitor_id = new_monitor()
        go(monitor_id, "down", 0)
        drain(dispatcher, lambda: len(pagerduty.requests) == 1 and len(slack.requests) == 1)
        with get_engine().begin() as connection:
            (incident_id,) = connection.execute(select(Incident.__table__.c.id)).scalars()
            assert alerting.acknowledge(connection, incident_id, "alice", datetime.now(UTC))
            assert not alerting.acknowledge(connection, incident_id, "bob", datetime.now(UTC))
        drain(dispatcher, lambda: len(pagerduty.requests) == 2)
        settle(dispatcher)
        trigger, acknowledged = (request.json() for request in pagerduty.requests)
        assert trigger["event_action"] == "trigger"
        assert acknowledged == {"routing_key": "R" * 32, "event_action": "acknowledge",
                                "dedup_key": trigger["dedup_key"]}
        assert len(slack.requests) == 1  # Slack has no incident to acknowledge: told nothing
