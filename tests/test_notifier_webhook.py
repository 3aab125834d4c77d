"""Generic webhook against a local receiver: payload, signature, and how answers are read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifiers.base import TransportError
from notifiers.message import Notice
from notifiers.webhook import WebhookChannel, sign, verify_signature
from tests.fakes import FakeHTTPServer, Reply, closed_port_url

UP = Notice(
    kind="up",
    monitor_name="Docs site",
    monitor_slug="docs-site",
    state="up",
    reason=None,
    since=datetime(2024, 5, 1, 15, 0, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitors?slug=docs-site",
    status_url="https://upwatch.example/status",
    event_id=314,
    downtime=timedelta(minutes=7, seconds=30),
)
SECRET = "whsec-test"


@pytest.fixture
def receiver() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer(default=Reply(204)) as server:
        yield server


def test_it_posts_the_documented_payload(receiver: FakeHTTPServer) -> None:
    WebhookChannel(f"{receiver.url}/hooks/upwatch").send(UP)

    (request,) = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks/upwatch"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-upwatch-event"] == "up"
    assert request.headers["x-upwatch-event-id"] == "314"
    assert "x-upwatch-signature" not in request.headers
    assert request.json() == {
        "version": 1,
        "event_id": 314,
        "kind": "up",
        "monitor": {"name": "Docs site", "slug": "docs-site"},
        "state": "up",
        "reason": None,
        "since": "2024-05-01T15:00:00Z",
        "downtime_seconds": 450.0,
        "text": "UP: Docs site is back up",
        "links": {
            "dashboard": "https://upwatch.example/monitors?slug=docs-site",
            "status_page": "https://upwatch.example/status",
            "acknowledge": None,
        },
        "runbook_url": None,
    }


def test_the_signature_verifies_over_the_raw_body(receiver: FakeHTTPServer) -> None:
    WebhookChannel(receiver.url, secret=SECRET).send(UP)

    (request,) = receiver.requests
    timestamp = request.headers["x-upwatch-timestamp"]
    signature = request.headers["x-upwatch-signature"]
    assert signature.startswith("sha256=")
    assert abs(int(timestamp) - time.time()) < 60
    assert verify_signature(SECRET, timestamp, request.body, signature)
    assert not verify_signature("other-secret", timestamp, request.body, signature)
    assert not verify_signature(SECRET, timestamp, request.body + b" ", signature)


def test_an_old_timestamp_does_not_verify() -> None:
    body = b'{"event_id":1}'
    old = str(int(time.time()) - 3600)
    assert not verify_signature(SECRET, old, body, sign(SECRET, old, body))


def test_it_handles_500_as_transient(receiver: FakeHTTPServer) -> None:
    receiver.enqueue(Reply(502, body=b"bad gateway"))

    with pytest.raises(TransportError) as caught:
        WebhookChannel(receiver.url).send(UP)

    assert caught.value.permanent is False
    assert "502" in caught.value.message


def test_it_handles_429_with_retry_after(receiver: FakeHTTPServer) -> None:
    receiver.enqueue(Reply(429, {"Retry-After": "90"}))

    with pytest.raises(TransportError) as caught:
        WebhookChannel(receiver.url).send(UP)

    assert caught.value.permanent is False
    assert caught.value.retry_after == 90.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_it_handles_4xx_as_permanent(receiver: FakeHTTPServer, status: int) -> None:
    receiver.enqueue(Reply(status, body=b"nope"))

    with pytest.raises(TransportError) as caught:
        WebhookChannel(receiver.url).send(UP)

    assert caught.value.permanent is True
    assert "nope" in caught.value.message


def test_it_does_not_follow_redirects(receiver: FakeHTTPServer) -> None:
    receiver.enqueue(Reply(301, {"Location": "https://elsewhere.example/hook"}))

    with pytest.raises(TransportError) as caught:
        WebhookChannel(receiver.url).send(UP)

    assert caught.value.permanent is True
    assert "https://elsewhere.example/hook" in caught.value.message
    assert len(receiver.requests) == 1


def test_connection_refused_is_transient_and_hides_the_path() -> None:
    channel = WebhookChannel(f"{closed_port_url()}/hook/secret-token", timeout=2)

    with pytest.raises(TransportError) as caught:
        channel.send(UP)

    assert caught.value.permanent is False
    assert "secret-token" not in caught.value.message


def test_an_unsupported_scheme_is_permanent() -> None:
    with pytest.raises(TransportError) as caught:
        WebhookChannel("ftp://example.com/hook").send(UP)

    assert caught.value.permanent is True
