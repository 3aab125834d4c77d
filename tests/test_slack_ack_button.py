"""The Acknowledge button of a Slack message: interactive with the Slack app's signing secret
(a click is posted to /slack/actions, signed), a link to /ack without one. Slack, PagerDuty and
the click's response_url are local fakes at the wire."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from notifiers.ack import ack_token
from notifiers.dispatcher import Dispatcher, secret_key
from notifiers.message import Notice
from notifiers.slack import slack_message
from storage.alerting_models import AlertChannel
from storage.audit import AUDIT
from storage.db import get_engine
from storage.models import Incident
from storage.monitors import create_monitor
from storage.results import record_result
from tests.fakes import FakeHTTPServer, Reply, closed_port_url
from web.ack import verified_incident_id
from web.slack_actions import slack_action_routes

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
INCIDENTS = Incident.__table__
CHANNELS = AlertChannel.__table__


def add_channel(name: str, kind: str, config: dict, secrets: dict) -> None:
    with get_engine().begin() as connection:
        connection.execute(insert(CHANNELS).values(
            name=name, kind=kind, config=config, secrets=secrets,
            events=["down", "up", "degraded", "certificate", "maintenance"]))


def drain(dispatcher: Dispatcher, until, timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, "dispatcher did not finish in time"
        dispatcher.run_once()
        time.sleep(0.05)


def settle(dispatcher: Dispatcher) -> None:
    """One more round, then until its sends finished: what was sent by now is all there is."""
    dispatcher.run_once()
    deadline = time.monotonic() + 8
    while dispatcher._in_flight:
        assert time.monotonic() < deadline, "sends still in flight"
        time.sleep(0.02)


def signed(body: str, secret: str = SIGNING_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or "",
            "Content-Type": "application/x-www-form-urlencoded"}


def click_body(message: dict, response_url: str, user: str = "alice") -> str:
    """What Slack posts when `user` clicks the message's Acknowledge button."""
    (button,) = [element for block in message["blocks"] if block["type"] == "actions"
                 for element in block["elements"] if element["action_id"] == "acknowledge"]
    payload = {
        "type": "block_actions", "user": {"id": "U0ALICE", "username": user, "name": user},
        "team": {"id": "T0001"}, "response_url": response_url, "message": message,
        "actions": [{"action_id": "acknowledge", "block_id": "b1", "type": "button",
                     "value": button["value"], "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


def incident() -> dict:
    with get_engine().connect() as connection:
        return dict(connection.execute(select(INCIDENTS)).mappings().one())


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    d = Dispatcher(get_engine(), get_settings())
    d.prepare()
    yield d
    d._pool.shutdown(wait=True)


def test_a_signed_click_acknowledges_once_tells_pagerduty_and_updates_the_message(
    dispatcher: Dispatcher,
) -> None:
    with FakeHTTPServer(default=Reply.json(202, {"status": "success"})) as pagerduty, \
            FakeHTTPServer() as slack, FakeHTTPServer() as responses:
        add_channel("pd", "pagerduty", {"base_url": pagerduty.url}, {"routing_key": "R" * 32})
        add_channel("ops", "slack_webhook", {}, {"webhook_url": slack.url + "/hook",
                                                 "signing_secret": SIGNING_SECRET})
        monitor_id = create_monitor(parse_monitor_input(
            {"name": "API", "url": "http://127.0.0.1:1/"})).id
        record_result(monitor_id, ProbeResult("down", datetime.now(UTC), reason="HTTP 503"))
        drain(dispatcher, lambda: len(pagerduty.requests) == 1 and len(slack.requests) == 1)

        # The page's button is an interactive one carrying the link's own signed token.
        message = slack.requests[0].json()
        (actions,) = [block for block in message["blocks"] if block["type"] == "actions"]
        (button,) = [e for e in actions["elements"] if e["action_id"] == "acknowledge"]
        assert "url" not in button and button["style"] == "danger"
        assert verified_incident_id(button["value"]) == incident()["id"]

        client = TestClient(Starlette(routes=slack_action_routes()))
        url = f"{responses.url}/actions/T0001/1/abc"
        body = click_body(message, url)
        forged = client.post("/slack/actions", content=body, headers=signed(body, "wrong" * 7))
        assert forged.status_code == 401 and "signature" in forged.json()["detail"]
        stale = client.post("/slack/actions", content=body,
                            headers=signed(body, at=time.time() - 6 * 60))
        assert stale.status_code == 401 and "5 minutes" in stale.json()["detail"]
        unsigned = client.post("/slack/actions", content=body)
        assert unsigned.status_code == 401
        assert incident()["acknowledged_at"] is None and responses.requests == []

        done = client.post("/slack/actions", content=body, headers=signed(body))
        assert done.status_code == 200, done.text
        acknowledged = incident()
        assert acknowledged["acknowledged_by"] == "alice"
        with get_engine().connect() as connection:
            actors = list(connection.execute(select(AUDIT.c.actor).where(
                AUDIT.c.action == "acknowledged")).scalars())
        assert actors == ["slack:alice"]

        # The message is replaced: the same message, the button gone, who and when in its place.
        (update,) = responses.wait_for(1)
        assert update.path == "/actions/T0001/1/abc"
        replaced = update.json()
        assert replaced["replace_original"] is True
        assert replaced["text"].startswith("Acknowledged by alice at ")
        assert replaced["blocks"][0] == message["blocks"][0]  # the header stays
        remaining = [e["action_id"] for block in replaced["blocks"] if block["type"] == "actions"
                     for e in block["elements"]]
        assert "acknowledge" not in remaining and "dashboard" in remaining
        assert "Acknowledged by alice" in replaced["blocks"][-1]["elements"][0]["text"]

        # PagerDuty hears of it once, through the outbox.
        drain(dispatcher, lambda: len(pagerduty.requests) == 2)
        assert pagerduty.requests[1].json()["event_action"] == "acknowledge"

        # A second click (bob's, later) is refused: nothing changes, PagerDuty is not told again.
        again = click_body(message, url, user="bob")
        second = client.post("/slack/actions", content=again, headers=signed(again))
        assert second.status_code == 409 and "already acknowledged, by alice" in second.text
        (_, refusal) = responses.wait_for(2)
        assert refusal.json()["response_type"] == "ephemeral"
        assert "already acknowledged" in refusal.json()["text"]
        settle(dispatcher)
        assert len(pagerduty.requests) == 2
        assert incident()["acknowledged_by"] == "alice"
        assert incident()["acknowledged_at"] == acknowledged["acknowledged_at"]


def test_a_click_that_is_not_a_button_of_upwatchs_is_refused() -> None:
    nowhere = closed_port_url()
    add_channel("ops", "slack_webhook", {}, {"webhook_url": f"{nowhere}/hook",
                                             "signing_secret": SIGNING_SECRET})
    client = TestClient(Starlette(routes=slack_action_routes()))
    forged_link = urlencode({"payload": json.dumps({
        "type": "block_actions", "user": {"username": "alice"}, "response_url": f"{nowhere}/r",
        "actions": [{"action_id": "acknowledge", "value": "1.2.abc"}]})})
    gone = ack_token(secret_key(get_engine(), get_settings()), 999_999)
    unknown_incident = forged_link.replace("1.2.abc", gone)
    for body, status in (("payload=not-json", 400), ("nothing=here", 400),
                         (urlencode({"payload": json.dumps({"type": "view_submission"})}), 400),
                         (forged_link, 403), (unknown_incident, 404)):
        answer = client.post("/slack/actions", content=body, headers=signed(body))
        assert answer.status_code == status, (body, answer.text)
    assert "no longer exists" in answer.json()["detail"]


def test_clicks_are_rate_limited_per_address_as_acknowledgement_links_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Bursts of 10, one more a minute: the 11th answer is a 429 however slow the machine is.
    monkeypatch.setenv("UPWATCH_ACK_REQUESTS_PER_MINUTE", "1")
    get_settings.cache_clear()
    client = TestClient(Starlette(routes=slack_action_routes()))
    answers = [client.post("/slack/actions", content="payload=%7B%7D").status_code
               for _ in range(11)]
    assert answers == [401] * 10 + [429]


def test_without_a_signing_secret_the_button_is_the_acknowledgement_link() -> None:
    notice = Notice(kind="down", monitor_name="API", monitor_slug="api", state="down",
                    reason=None, since=datetime.now(UTC), dashboard_url="https://u.example/",
                    status_url="https://u.example/status", event_id=1,
                    ack_url="https://u.example/ack?t=1.2.abc")
    buttons = {element["action_id"]: element for block in slack_message(notice)["blocks"]
               if block["type"] == "actions" for element in block["elements"]}
    assert buttons["acknowledge"]["url"] == "https://u.example/ack?t=1.2.abc"
    assert "value" not in buttons["acknowledge"]
    interactive = {element["action_id"]: element
                   for block in slack_message(notice, interactive=True)["blocks"]
                   if block["type"] == "actions" for element in block["elements"]}
    assert interactive["acknowledge"]["value"] == "1.2.abc"
    # No channel with a signing secret: nothing can sign a click.
    client = TestClient(Starlette(routes=slack_action_routes()))
    body = "payload=%7B%7D"
    refused = client.post("/slack/actions", content=body, headers=signed(body))
    assert refused.status_code == 403 and "signing secret" in refused.json()["detail"]
