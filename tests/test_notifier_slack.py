"""Slack channels against a local fake of Slack, as slack_sdk really calls it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from config.settings import get_settings
from notifiers.base import Channel, TransportError
from notifiers.message import Notice
from notifiers.slack import SlackBotChannel, SlackWebhookChannel, slack_channel_from_settings
from tests.fakes import FakeHTTPServer, Reply, closed_port_url

DOWN = Notice(
    kind="down",
    monitor_name="API <prod> & co",
    monitor_slug="api-prod",
    state="down",
    reason="HTTP 503",
    since=datetime(2024, 5, 1, 14, 2, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitors?slug=api-prod",
    status_url="https://upwatch.example/status",
    event_id=42,
    ack_url="https://upwatch.example/ack?t=signed",
)
UP = Notice(
    kind="up",
    monitor_name="API",
    monitor_slug="api-prod",
    state="up",
    reason=None,
    since=datetime(2024, 5, 1, 14, 14, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitors?slug=api-prod",
    status_url="https://upwatch.example/status",
    event_id=43,
    downtime=timedelta(minutes=12),
)


@pytest.fixture
def slack() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


def webhook(server: FakeHTTPServer) -> SlackWebhookChannel:
    return SlackWebhookChannel(f"{server.url}/services/T000/B000/XXXX", timeout=5)


def bot(server: FakeHTTPServer) -> SlackBotChannel:
    return SlackBotChannel("xoxb-test-token", "C0123", base_url=f"{server.url}/api/", timeout=5)


def test_both_channels_satisfy_the_channel_interface(slack: FakeHTTPServer) -> None:
    assert isinstance(webhook(slack), Channel)
    assert isinstance(bot(slack), Channel)


def test_webhook_posts_block_kit_message(slack: FakeHTTPServer) -> None:
    webhook(slack).send(DOWN)

    (request,) = slack.requests
    assert request.method == "POST"
    assert request.path == "/services/T000/B000/XXXX"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert "HTTP 503" in body["text"]
    header, section, actions, _context = body["blocks"]
    assert header["type"] == "header"
    assert header["text"]["text"] == "🔴 API <prod> & co is down"
    fields = [field["text"] for field in section["fields"]]
    assert "*State*\ndown" in fields
    assert "*Reason*\nHTTP 503" in fields
    assert "*Since*\n2024-05-01 14:02:00 UTC" in fields
    links = {button["text"]["text"]: button["url"] for button in actions["elements"]}
    assert links == {
        "Dashboard": DOWN.dashboard_url,
        "Status page": DOWN.status_url,
        "Acknowledge": DOWN.ack_url,
    }


def test_mrkdwn_text_is_escaped(slack: FakeHTTPServer) -> None:
    webhook(slack).send(DOWN)

    assert "API &lt;prod&gt; &amp; co" in slack.requests[0].json()["text"]


def test_recovery_shows_downtime_and_no_acknowledge_button(slack: FakeHTTPServer) -> None:
    webhook(slack).send(UP)

    body = slack.requests[0].json()
    assert body["blocks"][0]["text"]["text"] == "🟢 API is back up"
    assert "*Downtime*\n12 min" in [field["text"] for field in body["blocks"][1]["fields"]]
    assert [b["text"]["text"] for b in body["blocks"][2]["elements"]] == [
        "Dashboard",
        "Status page",
    ]


def test_bot_calls_chat_post_message_with_token_and_channel(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply.json(200, {"ok": True, "channel": "C0123", "ts": "1.2"}))

    bot(slack).send(DOWN)

    (request,) = slack.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    body = request.json()
    assert body["channel"] == "C0123"
    assert body["blocks"][0]["text"]["text"] == "🔴 API <prod> & co is down"
    assert body["unfurl_links"] is False


def test_webhook_handles_500_as_transient(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply(500, body=b"rollup_error"))

    with pytest.raises(TransportError) as caught:
        webhook(slack).send(DOWN)

    assert caught.value.permanent is False
    assert "500" in caught.value.message
    assert len(slack.requests) == 1  # the SDK did not retry on its own


def test_webhook_handles_429_with_retry_after(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply(429, {"Retry-After": "30"}, b"rate_limited"))

    with pytest.raises(TransportError) as caught:
        webhook(slack).send(DOWN)

    assert caught.value.permanent is False
    assert caught.value.retry_after == 30.0


def test_webhook_handles_invalid_token_as_permanent(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply(403, body=b"invalid_token"))

    with pytest.raises(TransportError) as caught:
        webhook(slack).send(DOWN)

    assert caught.value.permanent is True
    assert "invalid_token" in caught.value.message


@pytest.mark.parametrize("status, code", [(404, "no_service"), (404, "channel_not_found")])
def test_webhook_handles_gone_hooks_as_permanent(
    slack: FakeHTTPServer, status: int, code: str
) -> None:
    slack.enqueue(Reply(status, body=code.encode()))

    with pytest.raises(TransportError) as caught:
        webhook(slack).send(DOWN)

    assert caught.value.permanent is True
    assert code in caught.value.message


def test_webhook_handles_500_then_429_then_200(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply(500), Reply(429, {"Retry-After": "2"}), Reply(200, body=b"ok"))
    channel = webhook(slack)
    outcomes: list[TransportError | None] = []
    for _ in range(3):
        try:
            channel.send(DOWN)
            outcomes.append(None)
        except TransportError as error:
            outcomes.append(error)

    first, second, third = outcomes
    assert first is not None and not first.permanent and first.retry_after is None
    assert second is not None and not second.permanent and second.retry_after == 2.0
    assert third is None
    assert len(slack.requests) == 3


def test_bot_handles_invalid_token_as_permanent(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply.json(200, {"ok": False, "error": "invalid_auth"}))

    with pytest.raises(TransportError) as caught:
        bot(slack).send(DOWN)

    assert caught.value.permanent is True
    assert "invalid_auth" in caught.value.message


def test_bot_handles_channel_not_found_as_permanent(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply.json(200, {"ok": False, "error": "channel_not_found"}))

    with pytest.raises(TransportError) as caught:
        bot(slack).send(DOWN)

    assert caught.value.permanent is True


def test_bot_handles_429_with_retry_after(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply.json(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "12"}))

    with pytest.raises(TransportError) as caught:
        bot(slack).send(DOWN)

    assert caught.value.permanent is False
    assert caught.value.retry_after == 12.0


def test_bot_handles_500_as_transient(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply(500, body=b"oops"))

    with pytest.raises(TransportError) as caught:
        bot(slack).send(DOWN)

    assert caught.value.permanent is False
    assert len(slack.requests) == 1


def test_connection_refused_is_transient() -> None:
    channel = SlackWebhookChannel(f"{closed_port_url()}/services/x", timeout=2)

    with pytest.raises(TransportError) as caught:
        channel.send(DOWN)

    assert caught.value.permanent is False
    assert "could not reach Slack" in caught.value.message


def test_settings_build_the_default_webhook_channel(
    slack: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPWATCH_SLACK_WEBHOOK_URL", f"{slack.url}/services/T1/B1/secret")
    get_settings.cache_clear()

    channel = slack_channel_from_settings(get_settings())
    assert channel is not None
    channel.send(UP)

    assert slack.requests[0].path == "/services/T1/B1/secret"


def test_settings_without_slack_give_no_channel() -> None:
    assert slack_channel_from_settings(get_settings()) is None
