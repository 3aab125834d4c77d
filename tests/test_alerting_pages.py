"""The alerting page, headless with AppTest: channels (validation, masked secrets, Send test
against a fake Slack), routing and acknowledging an incident."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from domain.monitor_input import InvalidInput, parse_monitor_input
from domain.result import ProbeResult
from storage.alerting_admin import ChannelSpec, list_channels, monitor_routes, save_channel
from storage.alerting_models import AlertChannel
from storage.db import get_engine
from storage.models import Incident
from storage.monitors import create_monitor
from storage.results import record_result
from tests.fakes import FakeHTTPServer, Reply
from tests.pages_support import errors
from tests.pages_support import logged_in as admin_page
from ui.alerting_forms import parse_channel_form

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def slack() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


def logged_in() -> AppTest:
    return admin_page("alerting_page.py")


def unescaped(text: str) -> str:
    return text.replace("\\", "")


def everything_shown(at: AppTest) -> str:
    """Every element's protobuf, as text: what the browser would receive."""
    found: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(found)


def stored_secrets() -> dict[str, dict]:
    with get_engine().connect() as connection:
        return {row.name: row.secrets for row in connection.execute(
            select(AlertChannel.__table__.c.name, AlertChannel.__table__.c.secrets))}


def add_slack(at: AppTest, name: str, url: str) -> AppTest:
    at.text_input(key="ch_name").input(name)
    at.text_input(key="ch_webhook_url").input(url)
    return at.button(key="ch_save").click().run()


def test_the_page_asks_to_sign_in() -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "alerting_page.py"), default_timeout=30).run()
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]
    assert any("/login?next=" in m.value for m in at.markdown)
    assert not [t for t in at.title if t.value == "Alerting"]


@pytest.mark.parametrize(("name", "url", "field_message"), [
    ("", "https://hooks.slack.com/services/T/B/x", "give the channel a name"),
    ("ops", "", "Webhook URL is required"),
    ("ops", "ftp://hooks.slack.com/x", "start the URL with https:// (or http://)"),
])
def test_bad_channel_input_is_refused_and_nothing_saved(
    name: str, url: str, field_message: str
) -> None:
    at = add_slack(logged_in(), name, url)
    assert "Nothing was saved: fix the fields marked below." in errors(at)
    assert field_message in errors(at)
    assert list_channels() == []


def test_a_saved_channel_never_shows_its_secret_and_an_empty_field_keeps_it(
    slack: FakeHTTPServer,
) -> None:
    secret_url = slack.url + "/services/T000/B000/very-secret-token"
    at = add_slack(logged_in(), "ops-slack", secret_url)
    assert not errors(at), errors(at)
    assert "Saved channel ops-slack." in [unescaped(s.value) for s in at.success]
    assert stored_secrets() == {"ops-slack": {"webhook_url": secret_url}}
    shown = everything_shown(at)
    assert "ops-slack" in unescaped(shown) and "very-secret-token" not in shown
    assert at.session_state["ch_webhook_url"] == ""

    (channel,) = list_channels()
    at.button(key=f"edit_{channel.id}").click().run()
    assert at.text_input(key="ch_webhook_url").value == ""
    assert "very-secret-token" not in everything_shown(at)
    at.text_input(key="ch_name").input("ops-alerts")
    at.multiselect(key="ch_events").set_value(["down", "up"])
    at.text_input(key="ch_quiet_start").input("22:00")
    at.text_input(key="ch_quiet_end").input("07:00")
    at.button(key="ch_save").click().run()
    assert not errors(at), errors(at)
    assert stored_secrets() == {"ops-alerts": {"webhook_url": secret_url}}
    (channel,) = list_channels()
    assert (channel.events, channel.quiet_start, channel.quiet_end) == (
        ["down", "up"], "22:00", "07:00")


def test_send_test_shows_success_then_the_providers_exact_error(slack: FakeHTTPServer) -> None:
    at = add_slack(logged_in(), "ops-slack", slack.url + "/hook")
    (channel,) = list_channels()
    at.button(key=f"test_{channel.id}").click().run()
    assert slack.requests[0].path == "/hook"
    assert "Test message from Upwatch for ops-slack" in slack.requests[0].json()["text"]
    assert "Test message sent through 'ops-slack'." in [unescaped(s.value) for s in at.success]

    slack.enqueue(Reply(403, {"Content-Type": "text/plain"}, b"invalid_token"))
    at.button(key=f"test_{channel.id}").click().run()
    assert len(slack.requests) == 2
    shown = [unescaped(e) for e in errors(at)]
    assert ("Slack answered HTTP 403: invalid_token (check the webhook URL, token and channel)"
            in shown), shown


def test_a_failing_channel_shows_since_when_and_why(slack: FakeHTTPServer) -> None:
    from sqlalchemy import update

    from storage.models import utcnow

    add_slack(logged_in(), "ops-slack", slack.url + "/hook")
    with get_engine().begin() as connection:
        connection.execute(update(AlertChannel.__table__).values(
            failing_since=utcnow(), failing_error="Slack answered HTTP 404: no_service"))
    at = logged_in()
    assert any("Failing since" in e and "no_service" in unescaped(e) for e in errors(at))


def test_routing_and_acknowledging_an_incident(slack: FakeHTTPServer) -> None:
    api = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"}))
    at = add_slack(logged_in(), "ops-slack", slack.url + "/hook")
    (channel,) = list_channels()
    at.multiselect(key=f"route_{api.id}").set_value([channel.id])
    at.button(key=f"route_save_{api.id}").click().run()
    assert monitor_routes() == {api.id: [channel.id]}
    assert "Routing of API saved." in [unescaped(s.value) for s in at.success]

    record_result(api.id, ProbeResult("down", reason="HTTP 503"))
    at = logged_in()
    (incident_id,) = [int(b.key.removeprefix("ack_")) for b in at.button
                      if b.key and b.key.startswith("ack_")]
    at.text_input(key="ack_who").input("alice")
    at.button(key=f"ack_{incident_id}").click().run()
    assert not at.exception
    with get_engine().connect() as connection:
        who = connection.execute(select(Incident.__table__.c.acknowledged_by)).scalar()
    assert who == "alice (dashboard)"
    assert not [b for b in at.button if b.key == f"ack_{incident_id}"]


# --- the form rules, without a page -----------------------------------------------------------


def test_each_channel_kind_requires_its_settings() -> None:
    base = {"events": ["down"], "quiet_timezone": "UTC"}
    with pytest.raises(InvalidInput) as refused:
        parse_channel_form({**base, "name": "x", "kind": "sms", "sender": "0151",
                            "recipients": "+4915112345678, 12"})
    assert set(refused.value.errors) == {"account_sid", "auth_token", "sender", "recipients"}
    assert "international format" in refused.value.errors["recipients"]
    with pytest.raises(InvalidInput) as refused:
        parse_channel_form({**base, "name": "x", "kind": "email", "host": "smtp.example.com",
                            "port": "99999", "security": "starttls", "sender": "nobody",
                            "recipients": "ops@example.com"})
    assert set(refused.value.errors) == {"port", "sender"}
    spec = parse_channel_form({**base, "name": "pd", "kind": "pagerduty", "routing_key": "k"})
    assert spec.secrets == {"routing_key": "k"} and spec.config == {"base_url": ""}


def test_routing_rules_are_checked() -> None:
    values = {"name": "x", "kind": "webhook", "url": "https://example.com/h",
              "quiet_start": "22:00", "quiet_end": "", "quiet_timezone": "Mars/Base",
              "escalate_after_minutes": 5000, "events": []}
    with pytest.raises(InvalidInput) as refused:
        parse_channel_form(values)
    assert set(refused.value.errors) == {
        "quiet_end", "quiet_timezone", "escalate_after_minutes", "events"}


def test_a_stored_secret_may_be_left_empty_and_a_taken_name_is_refused() -> None:
    values = {"name": "bot", "kind": "slack_bot", "channel": "#ops", "events": ["down"]}
    with pytest.raises(InvalidInput):
        parse_channel_form(values)
    spec = parse_channel_form(values, stored_secrets=frozenset({"token"}))
    save_channel(ChannelSpec("bot", "slack_bot", {"channel": "#a"}, {"token": "t"}, ["down"]))
    with pytest.raises(InvalidInput, match="already exists"):
        save_channel(spec)
    assert repr(spec).count("secrets=<hidden>") == 1


def test_a_refused_page_shows_in_the_delivery_log_and_marks_the_channel(
    slack: FakeHTTPServer,
) -> None:
    import time

    from config.settings import get_settings
    from notifiers.dispatcher import Dispatcher

    slack.default = Reply(403, {"Content-Type": "text/plain"}, b"invalid_token")
    add_slack(logged_in(), "ops-slack", slack.url + "/hook")
    api = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"}))
    record_result(api.id, ProbeResult("down", reason="HTTP 503"))
    dispatcher = Dispatcher(get_engine(), get_settings())
    dispatcher.prepare()
    try:
        deadline = time.monotonic() + 5
        while list_channels()[0].failing_since is None:
            assert time.monotonic() < deadline, "the page was never attempted"
            dispatcher.run_once()
            time.sleep(0.05)
    finally:
        dispatcher._pool.shutdown(wait=True)
    at = logged_in()
    log = at.dataframe[0].value
    assert list(log["Channel"]) == ["ops-slack"] and list(log["Outcome"]) == ["permanent"]
    assert "invalid_token" in log["Error or note"][0] and list(log["Monitor"]) == ["API"]
    assert any("Failing since" in e and "invalid_token" in unescaped(e) for e in errors(at))
