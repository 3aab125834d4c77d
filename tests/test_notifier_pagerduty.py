"""PagerDuty Events API v2 against a local fake of events.pagerduty.com."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifiers.base import TransportError
from notifiers.message import Notice
from notifiers.pagerduty import PagerDutyChannel
from tests.fakes import FakeHTTPServer, Reply, closed_port_url

ROUTING_KEY = "R0UT1NGKEY0000000000000000000000"
DOWN = Notice(
    kind="down",
    monitor_name="Payments",
    monitor_slug="payments",
    state="down",
    reason="connection refused",
    since=datetime(2024, 5, 1, 14, 2, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitors?slug=payments",
    status_url="https://upwatch.example/status",
    event_id=5,
)
UP = dataclasses.replace(
    DOWN, kind="up", state="up", reason=None, event_id=6, downtime=timedelta(minutes=3)
)
ACCEPTED = Reply.json(202, {"status": "success", "message": "Event processed"})


@pytest.fixture
def pagerduty() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer(default=ACCEPTED) as server:
        yield server


def channel(server: FakeHTTPServer) -> PagerDutyChannel:
    return PagerDutyChannel(ROUTING_KEY, base_url=server.url, timeout=5)


@pytest.mark.parametrize(("severity", "sent"), [
    (None, "critical"), ("critical", "critical"), ("high", "critical"), ("medium", "error"),
    ("low", "warning")])
def test_an_outage_is_as_severe_in_pagerduty_as_its_monitor(
    pagerduty: FakeHTTPServer, severity: str | None, sent: str
) -> None:
    channel(pagerduty).send(dataclasses.replace(DOWN, severity=severity))
    assert pagerduty.requests[0].json()["payload"]["severity"] == sent


def test_down_triggers_with_the_monitor_as_dedup_key(pagerduty: FakeHTTPServer) -> None:
    channel(pagerduty).send(DOWN)

    (request,) = pagerduty.requests
    assert request.method == "POST"
    assert request.path == "/v2/enqueue"
    assert request.headers["content-type"] == "application/json"
    event = request.json()
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "upwatch-payments"
    assert event["payload"]["summary"] == "DOWN: Payments is down (connection refused)"
    assert event["payload"]["source"] == "payments"
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["timestamp"] == "2024-05-01T14:02:00+00:00"
    assert {"href": DOWN.dashboard_url, "text": "Upwatch dashboard"} in event["links"]


def test_recovery_resolves_the_same_incident(pagerduty: FakeHTTPServer) -> None:
    pd = channel(pagerduty)
    pd.send(DOWN)
    pd.send(UP)

    trigger, resolve = (request.json() for request in pagerduty.requests)
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }


def test_degraded_triggers_a_warning(pagerduty: FakeHTTPServer) -> None:
    channel(pagerduty).send(dataclasses.replace(DOWN, kind="degraded", state="degraded"))

    assert pagerduty.requests[0].json()["payload"]["severity"] == "warning"


def test_certificate_warnings_do_not_share_the_outage_key(pagerduty: FakeHTTPServer) -> None:
    channel(pagerduty).send(dataclasses.replace(DOWN, kind="certificate", state="up"))

    assert pagerduty.requests[0].json()["dedup_key"] == "upwatch-payments-certificate"


def test_a_test_notice_triggers_then_resolves(pagerduty: FakeHTTPServer) -> None:
    channel(pagerduty).send(dataclasses.replace(DOWN, kind="test"))

    actions = [(r.json()["event_action"], r.json()["dedup_key"]) for r in pagerduty.requests]
    assert actions == [("trigger", "upwatch-test-5"), ("resolve", "upwatch-test-5")]


@pytest.mark.parametrize("kind", ["maintenance_start", "maintenance_end", "reminder"])
def test_kinds_pagerduty_handles_itself_send_nothing(pagerduty: FakeHTTPServer, kind: str) -> None:
    channel(pagerduty).send(dataclasses.replace(DOWN, kind=kind))

    assert pagerduty.requests == []


def test_an_invalid_event_is_permanent(pagerduty: FakeHTTPServer) -> None:
    pagerduty.enqueue(
        Reply.json(
            400,
            {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": ["Length of 'routing_key' is incorrect"],
            },
        )
    )

    with pytest.raises(TransportError) as caught:
        channel(pagerduty).send(DOWN)

    assert caught.value.permanent is True
    assert "Length of 'routing_key' is incorrect" in caught.value.message


def test_it_handles_429_as_transient(pagerduty: FakeHTTPServer) -> None:
    pagerduty.enqueue(Reply(429, {"Retry-After": "4"}))

    with pytest.raises(TransportError) as caught:
        channel(pagerduty).send(DOWN)

    assert caught.value.permanent is False
    assert caught.value.retry_after == 4.0


def test_it_handles_500_as_transient(pagerduty: FakeHTTPServer) -> None:
    pagerduty.enqueue(Reply(500))

    with pytest.raises(TransportError) as caught:
        channel(pagerduty).send(DOWN)

    assert caught.value.permanent is False


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransportError) as caught:
        PagerDutyChannel(ROUTING_KEY, base_url=closed_port_url(), timeout=2).send(DOWN)

    assert caught.value.permanent is False
