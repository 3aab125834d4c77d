"""Every link a notification carries opens the page it names, as the channels really send it."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from email.message import EmailMessage

from config.settings import Settings
from domain import links
from notifiers.dispatcher import build_notice
from notifiers.email import EmailChannel
from notifiers.pagerduty import PagerDutyChannel
from notifiers.slack import SlackWebhookChannel
from notifiers.sms import SmsChannel
from notifiers.webhook import WebhookChannel
from storage.deliveries import NoticeFacts
from tests.fakes import FakeHTTPServer, FakeSMTPServer, Reply

PUBLIC = "https://up.example/"
SLUG = "api-prod-2"
RUNBOOK = "https://wiki.example/rb?a=1&b=<2>"
SHORT_RUNBOOK = "https://rb.example/api"
DETAIL = f"https://up.example/monitor?slug={SLUG}"


def facts(runbook: str | None) -> NoticeFacts:
    at = datetime(2024, 5, 1, 14, 2, tzinfo=UTC)
    return NoticeFacts("down", "HTTP 503", at, "API", SLUG, 9, at, None, runbook)


def notice(runbook: str | None = RUNBOOK):  # type: ignore[no-untyped-def]
    settings = Settings(public_url=PUBLIC)  # type: ignore[call-arg]
    delivery = {"kind": "down", "event_id": 3, "sequence": 1}
    return build_notice(facts(runbook), delivery, settings, "k" * 32)


def test_the_link_builder_quotes_and_joins() -> None:
    assert links.monitor_url("https://up.example/", "a b/c") == (
        "https://up.example/monitor?slug=a%20b%2Fc")
    assert links.monitor_path("api") == "/monitor?slug=api"
    assert links.status_url("https://up.example") == "https://up.example/status"
    assert links.ack_url("https://up.example/", "1.2.x/y") == "https://up.example/ack?t=1.2.x%2Fy"


def test_the_notice_links_the_detail_page_and_carries_the_runbook() -> None:
    made = notice()
    assert made.dashboard_url == DETAIL
    assert made.runbook_url == RUNBOOK
    assert made.ack_url is not None and made.ack_url.startswith("https://up.example/ack?t=")
    assert notice(None).runbook_url is None


def test_slack_payload() -> None:
    with FakeHTTPServer() as server:
        SlackWebhookChannel(f"{server.url}/services/T/B/X", timeout=5).send(notice())
        body = server.requests[0].json()
    buttons = {b["text"]["text"]: b["url"] for b in body["blocks"][2]["elements"]}
    assert buttons["Dashboard"] == DETAIL
    assert buttons["Runbook"] == RUNBOOK
    assert "/?monitor=" not in json.dumps(body)


def test_slack_without_runbook_has_no_runbook_button() -> None:
    with FakeHTTPServer() as server:
        SlackWebhookChannel(f"{server.url}/services/T/B/X", timeout=5).send(notice(None))
        body = server.requests[0].json()
    assert "Runbook" not in json.dumps(body)


def test_webhook_payload() -> None:
    with FakeHTTPServer(default=Reply(204)) as server:
        WebhookChannel(server.url).send(notice())
        WebhookChannel(server.url).send(notice(None))
        first, second = (request.json() for request in server.requests)
    assert first["links"]["dashboard"] == DETAIL
    assert first["runbook_url"] == RUNBOOK
    assert second["runbook_url"] is None
    assert "/?monitor=" not in json.dumps(first)


def test_pagerduty_payload() -> None:
    accepted = Reply.json(202, {"status": "success", "message": "Event processed"})
    with FakeHTTPServer(default=accepted) as server:
        PagerDutyChannel("R" * 32, base_url=server.url, timeout=5).send(notice())
        body = server.requests[0].json()
    assert body["client_url"] == DETAIL
    assert {"href": RUNBOOK, "text": "Runbook"} in body["links"]
    assert DETAIL in [link["href"] for link in body["links"]]
    assert "/?monitor=" not in json.dumps(body)


def test_sms_text_carries_a_short_runbook_link() -> None:
    created = Reply.json(201, {"sid": "SM" + "1" * 32, "status": "queued", "to": "+15550001111"})
    sid = "AC" + "0" * 32
    with FakeHTTPServer(default=created) as server:
        SmsChannel(sid, "t", "+15005550006", ["+15550001111"], api_base=server.url).send(
            notice(SHORT_RUNBOOK))
        body = server.requests[0].form()["Body"][0]
    assert f"Runbook: {SHORT_RUNBOOK}" in body
    assert "/?monitor=" not in body


def test_email_text_carries_the_detail_link_and_runbook() -> None:
    with FakeSMTPServer("none", None) as server:
        EmailChannel("127.0.0.1", server.port, "a@example.com", ["b@example.com"],
                     security="none", timeout=5).send(notice())
        (mail,) = server.wait_for(1)
    message: EmailMessage = email.message_from_bytes(  # type: ignore[assignment]
        mail.data, policy=email.policy.default)
    text = message.get_content() if not message.is_multipart() else str(
        message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert f"Dashboard: {DETAIL}" in text
    assert f"Runbook: {RUNBOOK}" in text
    html = str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert f'href="{DETAIL}"' in html
    assert "https://wiki.example/rb?a=1&amp;b=&lt;2&gt;" in html
    assert "<2>" not in html
    assert "/?monitor=" not in mail.data.decode()
