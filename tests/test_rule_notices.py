"""An alert rule's notices on the channels: Slack shows them, PagerDuty keeps one incident per
rule (triggered at the rule's severity, resolved by its end), beside the monitor's outage."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from notifiers.message import Notice, plain_text, sms_text
from notifiers.pagerduty import PagerDutyChannel
from notifiers.slack import SlackWebhookChannel
from tests.fakes import FakeHTTPServer, Reply

FIRING = Notice(
    kind="rule_firing", monitor_name="Checkout", monitor_slug="checkout", state="up",
    reason="p95 above 500 ms for 10 min: 812 ms", since=datetime(2026, 5, 1, 14, 2, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitor?slug=checkout",
    status_url="https://upwatch.example/status", event_id=7000, severity="medium",
    rule_key="latency:p95:500:10m",
)
RESOLVED = dataclasses.replace(FIRING, kind="rule_resolved", event_id=8000,
                               reason="p95 above 500 ms for 10 min: 230 ms")


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer(default=Reply.json(202, {"status": "success"})) as fake:
        yield fake


def test_pagerduty_keeps_one_incident_per_rule_at_the_rules_severity(
    server: FakeHTTPServer,
) -> None:
    channel = PagerDutyChannel("R" * 32, base_url=server.url, timeout=5)
    channel.send(FIRING)
    channel.send(RESOLVED)
    trigger, resolve = (request.json() for request in server.requests)
    assert trigger["event_action"] == "trigger"
    assert trigger["payload"]["severity"] == "error"  # medium
    assert "812 ms" in trigger["payload"]["summary"]
    assert resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == \
        "upwatch-checkout-rule-latency:p95:500:10m"


def test_slack_shows_a_rule_notice() -> None:
    with FakeHTTPServer() as slack:
        SlackWebhookChannel(f"{slack.url}/services/T000/B000/XXXX", timeout=5).send(FIRING)
    body = slack.requests[0].json()
    assert "Checkout: an alert rule fired" in body["text"]
    assert "812 ms" in str(body["blocks"])


def test_plain_text_and_sms_say_the_rule_and_its_value() -> None:
    assert plain_text(FIRING).startswith("ALERT: Checkout: an alert rule fired\n"
                                         "Reason: p95 above 500 ms for 10 min: 812 ms\n")
    assert sms_text(RESOLVED).startswith("ALERT OVER Checkout: p95 above 500 ms for 10 min: 230")
