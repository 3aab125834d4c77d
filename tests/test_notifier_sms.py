"""SMS through the twilio SDK against a local fake of Twilio's Messages API, and the SMS text."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import get_settings
from notifiers.base import TransportError
from notifiers.message import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SMS_LIMIT,
    Notice,
    gsm7_septets,
    sms_text,
    to_gsm7,
)
from notifiers.sms import SmsChannel, sms_channel_from_settings
from tests.fakes import FakeHTTPServer, Reply, closed_port_url

SID = "AC" + "0" * 32
TOKEN = "auth-token-123"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"

DOWN = Notice(
    kind="down",
    monitor_name="api.example.com",
    monitor_slug="api-example-com",
    state="down",
    reason="HTTP 503",
    since=datetime(2024, 5, 1, 14, 2, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitors?slug=api-example-com",
    status_url="https://upwatch.example/status",
    event_id=7,
)


def created(to: str) -> Reply:
    return Reply.json(201, {"sid": "SM" + "1" * 32, "status": "queued", "to": to})


def twilio_error(status: int, code: int, message: str) -> Reply:
    return Reply.json(
        status,
        {"code": code, "message": message, "status": status,
         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
    )  # fmt: skip


@pytest.fixture
def twilio() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer(default=created("+15550001111")) as server:
        yield server


def channel(server: FakeHTTPServer, *recipients: str) -> SmsChannel:
    return SmsChannel(
        SID, TOKEN, "+15005550006", list(recipients or ["+15550001111"]), api_base=server.url
    )


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def test_it_posts_the_form_twilio_expects(twilio: FakeHTTPServer) -> None:
    channel(twilio).send(DOWN)

    (request,) = twilio.requests
    assert request.method == "POST"
    assert request.path == MESSAGES_PATH
    assert request.basic_auth() == (SID, TOKEN)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {
        "To": ["+15550001111"],
        "From": ["+15005550006"],
        "Body": ["DOWN api.example.com: HTTP 503 since 14:02 UTC"],
    }


def test_it_texts_every_number(twilio: FakeHTTPServer) -> None:
    channel(twilio, "+15550001111", "+15550002222").send(DOWN)

    assert [r.form()["To"] for r in twilio.requests] == [["+15550001111"], ["+15550002222"]]


def test_it_uses_a_messaging_service_sid_as_sender(twilio: FakeHTTPServer) -> None:
    SmsChannel(SID, TOKEN, "MG" + "2" * 32, ["+15550001111"], api_base=twilio.url).send(DOWN)

    form = twilio.requests[0].form()
    assert form["MessagingServiceSid"] == ["MG" + "2" * 32]
    assert "From" not in form


def test_it_handles_21211_as_permanent(twilio: FakeHTTPServer) -> None:
    twilio.enqueue(twilio_error(400, 21211, "The 'To' number +1555 is not a valid phone number."))

    with pytest.raises(TransportError) as caught:
        channel(twilio).send(DOWN)

    assert caught.value.permanent is True
    assert "21211" in caught.value.message
    assert "is not a valid phone number" in caught.value.message
    assert len(twilio.requests) == 1  # the SDK does not retry


def test_it_handles_bad_credentials_as_permanent(twilio: FakeHTTPServer) -> None:
    twilio.enqueue(twilio_error(401, 20003, "Authenticate"))

    with pytest.raises(TransportError) as caught:
        channel(twilio).send(DOWN)

    assert caught.value.permanent is True
    assert "20003" in caught.value.message


def test_it_handles_429_with_retry_after(twilio: FakeHTTPServer) -> None:
    reply = twilio_error(429, 20429, "Too Many Requests")
    twilio.enqueue(dataclasses.replace(reply, headers={**reply.headers, "Retry-After": "5"}))

    with pytest.raises(TransportError) as caught:
        channel(twilio).send(DOWN)

    assert caught.value.permanent is False
    assert caught.value.retry_after == 5.0


def test_it_handles_500_as_transient(twilio: FakeHTTPServer) -> None:
    twilio.enqueue(Reply(500, body=b"<html>oops</html>"))

    with pytest.raises(TransportError) as caught:
        channel(twilio).send(DOWN)

    assert caught.value.permanent is False


def test_a_retry_texts_only_the_numbers_not_yet_reached(twilio: FakeHTTPServer) -> None:
    sms = channel(twilio, "+15550001111", "+15550002222")
    twilio.enqueue(created("+15550001111"), Reply(503))
    with pytest.raises(TransportError) as caught:
        sms.send(DOWN)
    assert caught.value.permanent is False

    sms.send(DOWN)

    assert [r.form()["To"][0] for r in twilio.requests] == [
        "+15550001111",
        "+15550002222",
        "+15550002222",
    ]


def test_one_invalid_number_does_not_stop_the_others(twilio: FakeHTTPServer) -> None:
    twilio.enqueue(twilio_error(400, 21211, "invalid"), created("+15550002222"))

    with pytest.raises(TransportError) as caught:
        channel(twilio, "+1555", "+15550002222").send(DOWN)

    assert caught.value.permanent is True
    assert caught.value.message.startswith("+1555: ")
    assert len(twilio.requests) == 2


def test_connection_refused_is_transient() -> None:
    sms = SmsChannel(SID, TOKEN, "+15005550006", ["+15550001111"], api_base=closed_port_url())

    with pytest.raises(TransportError) as caught:
        sms.send(DOWN)

    assert caught.value.permanent is False


def test_settings_build_the_default_channel(
    twilio: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPWATCH_TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("UPWATCH_TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("UPWATCH_TWILIO_FROM", "+15005550006")
    monkeypatch.setenv("UPWATCH_TWILIO_TO", "+15550001111, +15550002222")
    monkeypatch.setenv("UPWATCH_TWILIO_API_BASE", twilio.url)
    get_settings.cache_clear()

    sms = sms_channel_from_settings(get_settings())
    assert sms is not None
    sms.send(DOWN)

    assert [r.path for r in twilio.requests] == [MESSAGES_PATH, MESSAGES_PATH]


def test_settings_without_twilio_give_no_channel() -> None:
    assert sms_channel_from_settings(get_settings()) is None


# --- the text itself ---------------------------------------------------------------------------


def test_the_text_is_the_short_form() -> None:
    assert sms_text(DOWN) == "DOWN api.example.com: HTTP 503 since 14:02 UTC"


def test_recovery_text_gives_the_downtime() -> None:
    up = dataclasses.replace(
        DOWN, kind="up", state="up", reason=None, downtime=timedelta(hours=1, minutes=5)
    )
    assert sms_text(up) == "UP api.example.com: back after 1 h 5 min at 14:02 UTC"


def test_lookalike_characters_are_folded() -> None:
    assert to_gsm7("“quoted” ‘x’ a\u00a0b – c — d…") == "\"quoted\" 'x' a b - c - d..."
    assert to_gsm7("Zürich café") == "Zürich café"  # ü and é are GSM-7: kept
    assert to_gsm7("Kraków 🚀 up") == "Krakow up"
    assert to_gsm7("東京") == "??"


def test_an_acknowledge_link_is_added_when_it_fits() -> None:
    notice = dataclasses.replace(DOWN, ack_url="https://upwatch.example/ack?t=abc")
    assert sms_text(notice).endswith(" Ack: https://upwatch.example/ack?t=abc")


names = st.text(min_size=0, max_size=400)
reasons = st.none() | st.text(max_size=600)
kinds = st.sampled_from(
    ["down", "up", "degraded", "certificate", "maintenance_start", "maintenance_end",
     "flapping", "reminder", "test"]
)  # fmt: skip
ack_urls = st.none() | st.text(max_size=200).map(lambda s: "https://x.example/ack?t=" + s)


@given(
    name=names,
    reason=reasons,
    kind=kinds,
    ack_url=ack_urls,
    downtime=st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=999)),
    state=st.sampled_from(["down", "degraded"]) | st.text(max_size=60),
)
def test_sms_text_is_one_gsm7_segment_whatever_the_input(
    name: str,
    reason: str | None,
    kind: str,
    ack_url: str | None,
    downtime: timedelta | None,
    state: str,
) -> None:
    notice = dataclasses.replace(
        DOWN,
        kind=kind,
        monitor_name=name,
        reason=reason,
        ack_url=ack_url,
        downtime=downtime,
        state=state,
    )
    text = sms_text(notice)

    assert is_gsm7(text)
    assert gsm7_septets(text) <= SMS_LIMIT
    assert text.split(" ", 1)[0] in {"DOWN", "UP", "DEGRADED", "CERTIFICATE", "MAINTENANCE",
                                     "FLAPPING", "STILL", "TEST"}  # fmt: skip
    if kind not in ("up", "test"):
        assert text.endswith("since 14:02 UTC") or " Ack: " in text


@given(st.text(alphabet=st.characters(), max_size=300))
def test_to_gsm7_keeps_only_gsm7_on_one_line(text: str) -> None:
    folded = to_gsm7(text)
    assert is_gsm7(folded)
    assert "\n" not in folded and "\r" not in folded
    assert "  " not in folded
