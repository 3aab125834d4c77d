"""Notification templates: each channel's own text at the wire, field values escaped for where
they go, refused on save when wrong, the built-in text (recorded) when a template fails as a
page goes out, the sandbox's limits, and the preview on the alerting page."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from config.settings import get_settings
from domain.monitor_input import InvalidInput, parse_monitor_input
from domain.notice_templates import MAX_OUTPUT_CHARS, TemplateRefused, check_template, render
from domain.result import ProbeResult
from notifiers.dispatcher import Dispatcher
from notifiers.message import Notice, gsm7_septets, sms_text, to_gsm7
from notifiers.pagerduty import pagerduty_events
from notifiers.registry import ChannelCache, build_channel
from notifiers.slack import slack_message
from notifiers.webhook import webhook_payload
from storage.alerting_admin import ChannelSpec, channel_row, list_channels, save_channel
from storage.alerting_models import AlertChannel, Delivery, DeliveryAttempt
from storage.db import get_engine
from storage.monitors import create_monitor
from storage.results import record_result
from tests.fakes import FakeHTTPServer, FakeSMTPServer, Reply
from tests.pages_support import errors, logged_in

SID = "AC" + "0" * 32
HOSTILE_NAME = "<script>alert(1)</script> <!channel> & *bold*"
HOSTILE_REASON = "<!here> & <https://evil.example|click> " + "z" * 5000

DOWN = Notice(
    kind="down", monitor_name="Checkout API", monitor_slug="checkout-api", state="down",
    reason="HTTP 503", since=datetime(2024, 5, 1, 14, 2, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitor?slug=checkout-api",
    status_url="https://upwatch.example/status", event_id=42,
    ack_url="https://upwatch.example/ack?t=signed",
)
HOSTILE = replace(DOWN, monitor_name=HOSTILE_NAME, reason=HOSTILE_REASON)
UP = replace(DOWN, kind="up", state="up", reason=None, downtime=timedelta(minutes=12),
             ack_url=None)


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


def shown(texts: list[str]) -> list[str]:
    """Page messages as a reader sees them (the page escapes Markdown in user text)."""
    return [text.replace("\\", "") for text in texts]


def send(kind: str, config: dict, secrets: dict, notice: Notice) -> str | None:
    """Through the registry, as the dispatcher builds a channel from its row."""
    return build_channel("ch", kind, config, secrets).send(notice)


def received_mail(smtp: FakeSMTPServer) -> EmailMessage:
    (mail,) = smtp.wait_for(1)
    return email.message_from_bytes(mail.data, policy=email.policy.default)  # type: ignore[return-value]


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    # On the wire lines end in CRLF; compared as the text was written.
    return (str(plain.get_content()).replace("\r\n", "\n"),
            str(html.get_content()).replace("\r\n", "\n"))


def email_config(smtp: FakeSMTPServer, **templates: str) -> dict:
    return {"host": "127.0.0.1", "port": str(smtp.port), "sender": "up@example.com",
            "recipients": "oncall@example.com", "security": "none", **templates}


# --- each channel's template, at the wire ------------------------------------------------------


def test_slack_sends_the_template_with_the_buttons_kept(server: FakeHTTPServer) -> None:
    template = "<!here> *{{ label }}* {{ monitor_name }}: {{ reason }} since {{ since_time }}"
    note = send("slack_webhook", {"text_template": template},
                {"webhook_url": server.url + "/hook"}, DOWN)
    assert note is None
    body = server.requests[0].json()
    expected = "<!here> *DOWN* Checkout API: HTTP 503 since 14:02 UTC"
    assert body["text"] == expected
    assert body["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": expected}}
    buttons = [b["text"]["text"] for b in body["blocks"][1]["elements"]]
    assert buttons == ["Dashboard", "Status page", "Acknowledge"]


def test_slack_bot_sends_the_template_too(server: FakeHTTPServer) -> None:
    server.default = Reply.json(200, {"ok": True, "channel": "C1", "ts": "1.2"})
    send("slack_bot", {"channel": "C1", "base_url": server.url + "/api/",
                       "text_template": "{{ headline }}"}, {"token": "xoxb-1"}, DOWN)
    assert server.requests[0].json()["text"] == "Checkout API is down"


def test_sms_sends_the_template_as_one_gsm7_message(server: FakeHTTPServer) -> None:
    server.default = Reply.json(201, {"sid": "SM" + "1" * 32, "status": "queued"})
    config = {"account_sid": SID, "sender": "+15005550006", "recipients": "+15550001111",
              "api_base": server.url,
              "text_template": "{{ label }} {{ monitor_slug }} “{{ reason }}”\n{{ ack_url }}"}
    send("sms", config, {"auth_token": "t"}, DOWN)
    body = server.requests[0].form()["Body"][0]
    assert body == "DOWN checkout-api \"HTTP 503\" https://upwatch.example/ack?t=signed"


def test_the_severity_fields_name_the_incidents_priority(server: FakeHTTPServer) -> None:
    server.default = Reply.json(201, {"sid": "SM" + "1" * 32, "status": "queued"})
    config = {"account_sid": SID, "sender": "+15005550006", "recipients": "+15550001111",
              "api_base": server.url, "text_template": "{{ priority }} {{ severity }}"}
    send("sms", config, {"auth_token": "t"}, dataclasses.replace(DOWN, severity="medium"))
    send("sms", config, {"auth_token": "t"}, dataclasses.replace(DOWN, severity=None))
    assert [r.form()["Body"][0] for r in server.requests] == ["P3 medium", "P2 high"]


def test_email_sends_the_subject_and_body_templates() -> None:
    with FakeSMTPServer("none", None) as smtp:
        send("email", email_config(
            smtp, subject_template="{{ label }} – {{ monitor_name }}",
            body_template="Hello,\n{{ headline }} ({{ reason }}).\n"
                          "<b>Act</b>: {{ dashboard_url }}"), {}, DOWN)
        message = received_mail(smtp)
    assert message["Subject"] == "DOWN – Checkout API"
    plain, html = parts(message)
    assert plain == ("Hello,\nCheckout API is down (HTTP 503).\n"
                     "<b>Act</b>: https://upwatch.example/monitor?slug=checkout-api\n")
    assert ("Hello,\nCheckout API is down (HTTP 503).\n<b>Act</b>: "
            "https://upwatch.example/monitor?slug=checkout-api") in html


def test_webhook_replaces_only_the_text_field(server: FakeHTTPServer) -> None:
    config = {"url": server.url + "/in", "text_template": "{{ monitor_name }} is {{ state }}"}
    send("webhook", config, {}, DOWN)
    payload = server.requests[0].json()
    assert payload == {**webhook_payload(DOWN), "text": "Checkout API is down"}


def test_pagerduty_summary_is_the_template_and_recovery_still_resolves(
    server: FakeHTTPServer,
) -> None:
    server.default = Reply.json(202, {"status": "success", "dedup_key": "k"})
    config = {"base_url": server.url, "summary_template": "P1 {{ monitor_name }}\n{{ reason }}"}
    send("pagerduty", config, {"routing_key": "R" * 32}, DOWN)
    send("pagerduty", config, {"routing_key": "R" * 32}, UP)
    trigger, resolve = (request.json() for request in server.requests)
    assert trigger["payload"]["summary"] == "P1 Checkout API HTTP 503"
    assert resolve == pagerduty_events(UP, "R" * 32)[0]


def test_an_empty_template_is_the_built_in_text(server: FakeHTTPServer) -> None:
    send("slack_webhook", {"text_template": " \n "}, {"webhook_url": server.url + "/hook"}, DOWN)
    assert server.requests[0].json()["blocks"] == slack_message(DOWN)["blocks"]


# --- hostile field values ----------------------------------------------------------------------


def test_hostile_values_stay_escaped_in_slack_mrkdwn(server: FakeHTTPServer) -> None:
    send("slack_webhook", {"text_template": "<!channel> {{ monitor_name }} — {{ reason }}"},
         {"webhook_url": server.url + "/hook"}, HOSTILE)
    text = server.requests[0].json()["text"]
    assert text.startswith("<!channel> &lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; "
                           "&amp; *bold* — &lt;!here&gt; &amp; "
                           "&lt;https://evil.example|click&gt; z")
    assert text.count("<") == 1  # the author's own mention only: no value opens a tag or link
    assert len(text) <= 3000 and text.endswith("…")


def test_hostile_values_stay_escaped_in_the_html_email() -> None:
    with FakeSMTPServer("none", None) as smtp:
        send("email", email_config(smtp, subject_template="{{ monitor_name }}\n{{ reason }}",
                                   body_template="<p>{{ monitor_name }}</p>{{ reason }}"),
             {}, HOSTILE)
        message = received_mail(smtp)
    plain, html = parts(message)
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &amp; *bold*</p>" in html
    assert "&lt;!here&gt; &amp; &lt;https://evil.example|click&gt;" in html
    assert "<script>" not in html and "<!here>" not in html
    assert plain.startswith(f"<p>{HOSTILE_NAME}</p><!here>")  # plain text is text, as it is
    assert "\n" not in message["Subject"] and len(message["Subject"]) <= 250


def test_hostile_values_stay_one_gsm7_sms(server: FakeHTTPServer) -> None:
    server.default = Reply.json(201, {"sid": "SM" + "1" * 32, "status": "queued"})
    config = {"account_sid": SID, "sender": "+15005550006", "recipients": "+15550001111",
              "api_base": server.url,
              "text_template": "{{ label }} {{ monitor_name }} {{ reason }}"}
    send("sms", config, {"auth_token": "t"}, replace(HOSTILE, monitor_name=HOSTILE_NAME + " 🔥"))
    body = server.requests[0].form()["Body"][0]
    assert body.startswith(f"DOWN {HOSTILE_NAME} <!here>")
    assert to_gsm7(body) == body and gsm7_septets(body) <= 160 and body.endswith("...")


# --- refused on save ---------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "message"), [
    ("Down: {{ monitor_name }", "line 1: unexpected '}'"),
    ("Down\n{{ monitr_name }}", "line 2: unknown field 'monitr_name'"),
    ("{{ ''.__class__ }}", "line 1: attribute access (a.b) is not available"),
    ("{% for c in reason %}{{ c }}{% endfor %}", "line 1: loops ({% for %}) are not available"),
    ("{{ monitor_name|attr('__class__') }}", "line 1: unknown filter 'attr'"),
])
def test_a_wrong_template_is_refused_on_save_and_nothing_is_saved(
    template: str, message: str
) -> None:
    spec = ChannelSpec("ops", "slack_webhook", {"text_template": template},
                       {"webhook_url": "https://hooks.slack.com/services/T/B/x"}, ["down"])
    with pytest.raises(InvalidInput) as refused:
        save_channel(spec)
    assert refused.value.errors["text_template"].startswith(message)
    assert list_channels() == []

    saved = save_channel(replace(spec, config={"text_template": "{{ headline }}"}))
    with pytest.raises(InvalidInput):
        save_channel(replace(spec, config={"text_template": template}), saved.id)
    assert [c.config for c in list_channels()] == [{"text_template": "{{ headline }}"}]


def test_the_form_names_the_wrong_line_and_saves_nothing() -> None:
    at = logged_in("alerting_page.py")
    at.text_input(key="ch_name").input("ops")
    at.text_input(key="ch_webhook_url").input("https://hooks.slack.com/services/T/B/x")
    at.text_area(key="ch_text_template").input("{{ label }}\n{% if reason %}{{ reason }}")
    at.button(key="ch_save").click().run()
    assert "Nothing was saved: fix the fields marked below." in errors(at)
    assert any(e.startswith("line 2: Unexpected end of template") for e in shown(errors(at))), \
        errors(at)
    assert list_channels() == []


def test_an_environment_channel_keeps_its_connection_and_takes_a_template(
    server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPWATCH_SLACK_WEBHOOK_URL", server.url + "/env-hook")
    get_settings.cache_clear()
    Dispatcher(get_engine(), get_settings()).prepare()  # gives the environment channel its row
    (channel,) = list_channels()
    save_channel(ChannelSpec("slack", "slack_webhook", {"text_template": "{{ label }} only"},
                             {}, ["down"]), channel.id)
    row = channel_row(channel.id)
    assert row is not None and row["config"] == {"text_template": "{{ label }} only"}
    assert row["secrets"] == {}
    ChannelCache(get_settings()).channel_for(row).send(DOWN)
    assert server.requests[0].path == "/env-hook"
    assert server.requests[0].json()["text"] == "DOWN only"


# --- failing at send time ------------------------------------------------------------------------


def test_a_template_failing_at_send_time_sends_the_default_once_and_says_why(
    server: FakeHTTPServer,
) -> None:
    # Saved through the form's rules: it is valid; it only fails for a page without downtime.
    channel = save_channel(ChannelSpec(
        "ops-slack", "slack_webhook", {"text_template": "down for {{ downtime_seconds // 60 }}"},
        {"webhook_url": server.url + "/hook"}, ["down", "up"]))
    monitor = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"}))
    record_result(monitor.id, ProbeResult("down", reason="HTTP 503"))
    dispatcher = Dispatcher(get_engine(), get_settings())
    dispatcher.prepare()
    try:
        deadline = time.monotonic() + 5
        while not _delivered():
            assert time.monotonic() < deadline, "the page was never delivered"
            dispatcher.run_once()
            time.sleep(0.05)
        dispatcher.run_once()
    finally:
        dispatcher._pool.shutdown(wait=True)
    (request,) = server.requests
    assert request.json()["text"] == "DOWN: API is down (HTTP 503)"
    with get_engine().connect() as connection:
        (attempt,) = connection.execute(select(DeliveryAttempt.__table__)).mappings()
    assert attempt["outcome"] == "delivered"
    assert attempt["error"] == ("Sent with the built-in text: template failed: TypeError: "
                                "unsupported operand type(s) for //: 'NoneType' and 'int'")
    (view,) = list_channels()
    assert view.id == channel.id and view.template_note == attempt["error"]
    assert view.failing_since is None

    at = logged_in("alerting_page.py")
    assert any(w.startswith("Last message, ") and w.endswith(f" s ago: {attempt['error']}")
               for w in shown([w.value for w in at.warning]))
    assert "template failed" in at.dataframe[0].value["Error or note"][0]


def _delivered() -> bool:
    with get_engine().connect() as connection:
        return connection.execute(select(Delivery.__table__.c.status)).scalars().all() == [
            "delivered"]


def test_a_refused_template_that_reached_the_database_still_pages(
    server: FakeHTTPServer,
) -> None:
    # Written past the checks (an older version, a hand edit): the sandbox still holds.
    for template in ("{{ ''.__class__.__mro__ }}", "{{ reason.__class__ }}",
                     "{{ monitor_name * 100000 }}", "{% for a in reason %}{% endfor %}",
                     "{{ cycler.__init__.__globals__ }}", "{{ '%999999999s' % 1 }}"):
        note = send("slack_webhook", {"text_template": template},
                    {"webhook_url": server.url + "/hook"}, DOWN)
        assert note is not None and note.startswith("Sent with the built-in text: template ")
    assert [r.json()["text"] for r in server.requests] == [slack_message(DOWN)["text"]] * 6


def test_test_button_tells_when_the_template_was_not_used(server: FakeHTTPServer) -> None:
    save_channel(ChannelSpec("ops", "slack_webhook",
                             {"text_template": "{{ downtime_seconds + 1 }}"},
                             {"webhook_url": server.url + "/hook"}, ["down"]))
    at = logged_in("alerting_page.py")
    (channel,) = list_channels()
    at.button(key=f"test_{channel.id}").click().run()
    assert len(server.requests) == 1
    assert any("template failed: TypeError" in w for w in shown([w.value for w in at.warning]))


# --- the sandbox's limits ----------------------------------------------------------------------


def test_the_sandbox_refuses_internals_and_unbounded_text() -> None:
    values = {"monitor_name": "API", "reason": "x" * 200}
    for template in ("{{ ''.__class__ }}", "{{ lipsum() }}", "{{ range(10) }}",
                     "{{ monitor_name['__class__'] }}", "{{ 9 ** 9 ** 9 }}", "{% set a = 1 %}",
                     "{% include 'x' %}", "{% macro m() %}{% endmacro %}"):
        with pytest.raises(TemplateRefused):
            check_template(template)
    began = time.monotonic()
    for template in ("{{ reason * 100000 }}", "{{ reason|replace('', reason) }}",
                     "{{ reason" + " ~ reason" * 60 + " }}", "{{ '%s' % reason }}"):
        with pytest.raises(TemplateRefused, match=r"longer than|not available"):
            render(template, values)
    assert time.monotonic() - began < 1
    assert len(render("{{ reason }}" * 50, values)) == MAX_OUTPUT_CHARS


# --- preview -----------------------------------------------------------------------------------


def test_the_preview_shows_the_text_for_a_sample_outage_and_sends_nothing() -> None:
    at = logged_in("alerting_page.py")
    at.selectbox(key="ch_kind").set_value("sms").run()
    at.text_area(key="ch_text_template").input("{{ label }} {{ monitor_name }}: {{ reason }}")
    at.button(key="ch_preview_button").click().run()
    assert [c.value for c in at.code] == ["DOWN Checkout API: HTTP 503 Service Unavailable"]
    assert not errors(at)

    at.text_area(key="ch_text_template").input("{{ label }} {{ downtime_seconds * 2 }}")
    at.button(key="ch_preview_button").click().run()
    assert any("template failed: TypeError" in e for e in shown(errors(at))), errors(at)
    (default,) = [c.value for c in at.code]
    assert default.startswith("DOWN Checkout API: HTTP 503 Service")  # the built-in SMS
    assert default == sms_text(_sample_with_time_of(default))
    with get_engine().connect() as connection:
        assert connection.execute(select(AlertChannel.__table__)).first() is None


def _sample_with_time_of(text: str) -> Notice:
    from notifiers.templates import sample_down_notice

    sample = sample_down_notice(get_settings().public_url)
    hours, minutes = text.split(" since ")[1][:5].split(":")
    return replace(sample, since=sample.since.replace(hour=int(hours), minute=int(minutes)))


def test_the_preview_of_an_email_shows_subject_and_body_and_the_syntax_error() -> None:
    at = logged_in("alerting_page.py")
    at.selectbox(key="ch_kind").set_value("email").run()
    at.text_area(key="ch_subject_template").input("[{{ label }}] {{ monitor_name }}")
    at.text_area(key="ch_body_template").input("{{ headline }}\n{{ runbook_url }")
    at.button(key="ch_preview_button").click().run()
    subject, body = (c.value for c in at.code)
    assert subject == "[DOWN] Checkout API"
    assert body.startswith("DOWN: Checkout API is down\nReason: HTTP 503")  # the built-in body
    assert "Body template: line 2: unexpected '}'" in shown(errors(at))
