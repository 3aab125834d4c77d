"""Escalation per monitor and per severity: a monitor's own reminder and flap values else the
global ones; steps "after M minutes unacknowledged, page these channels" fire in order, each
once, and stop at an acknowledgement, across a restart; the settings are refused per field."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from alerting.escalation_steps import Step, step_deliveries
from alerting.planning import ChannelRule, PlannedDelivery
from alerting.routing import QuietHours
from composition.cli import document_rules
from composition.web_process import Runtime, build_routes
from config.config_document import VERSION, InvalidDocument, dump_document, parse_document
from config.settings import get_settings
from domain.escalation import EscalationSettings, effective_escalation, parse_escalation
from domain.escalation_steps import EscalationStep
from domain.limits import InvalidInput
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from notifiers.dispatcher import Dispatcher
from storage import alerting
from storage.alerting_admin import escalation_settings, save_escalation_settings
from storage.alerting_models import AlertChannel, Delivery, MonitorRoute
from storage.config_apply import apply, export_document
from storage.db import get_engine
from storage.models import Incident, Monitor, StateChange
from storage.monitors import create_monitor
from storage.results import record_result
from tests.fakes import FakeHTTPServer
from tests.pages_support import logged_in

GLOBAL = EscalationSettings(30, 5, 10)
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- the effective settings of one monitor ----------------------------------------------------


@pytest.mark.parametrize(("own", "expected"), [
    ({}, (30, 5, 10)),
    ({"remind_every_minutes": None, "flap_changes": None, "flap_window_minutes": None},
     (30, 5, 10)),
    ({"remind_every_minutes": 5}, (5, 5, 10)),
    ({"remind_every_minutes": 0}, (0, 5, 10)),  # 0 is the monitor's own "never", not "unset"
    ({"flap_changes": 3, "flap_window_minutes": 60}, (30, 3, 60)),
    ({"remind_every_minutes": 15, "flap_changes": 2, "flap_window_minutes": 1}, (15, 2, 1)),
])
def test_a_monitor_works_by_its_own_values_else_the_global_ones(own, expected) -> None:
    settings = effective_escalation(GLOBAL, own)
    assert (settings.remind_every_minutes, settings.flap_changes,
            settings.flap_window_minutes) == expected


def _row_of(monitor_id: int, **values: int | None) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).where(Monitor.__table__.c.id == monitor_id)
                           .values(**values))


def test_reminders_and_flapping_are_decided_by_the_monitors_own_values() -> None:
    save_escalation_settings({"remind_every_minutes": 30, "flap_changes": 8}, actor="admin")
    own, default = new_monitor("Own"), new_monitor("Default")
    _row_of(own, remind_every_minutes=5, flap_changes=2, flap_window_minutes=60)
    with get_engine().begin() as connection:
        assert alerting.flap_policy(connection, own).changes == 2
        assert alerting.flap_policy(connection, own).window_minutes == 60
        assert alerting.flap_policy(connection, default).changes == 8
        assert alerting.flap_policy(connection).changes == 8
    # Both monitors go down 12 minutes ago: only the one reminding every 5 min has reminders.
    record_result(own, ProbeResult("down", datetime.now(UTC) - minutes(12), reason="HTTP 503"))
    record_result(default, ProbeResult("down", datetime.now(UTC) - minutes(12),
                                       reason="HTTP 503"))
    with FakeHTTPServer() as slack:
        slack_channel(slack, "ops")
        dispatcher = Dispatcher(get_engine(), get_settings())
        dispatcher.prepare()
        try:
            drain(dispatcher, lambda: len(slack.requests) == 3)  # two pages, one reminder
        finally:
            dispatcher._pool.shutdown(wait=True)
    reminders = rows(DELIVERIES.c.kind == "reminder")
    assert [(r["sequence"], monitor_of(r)) for r in reminders] == [(2, own)]


# --- the settings: steps per severity and the digest, refused per field -----------------------


def test_steps_and_the_digest_are_taken_in_order() -> None:
    parsed = parse_escalation({
        "steps": {"critical": [{"after_minutes": 5, "channels": ["phone"]},
                               {"after_minutes": 15.0, "channels": ["lead", "lead", "phone"]}]},
        "digest": ["low"]}, GLOBAL)
    assert parsed.steps["critical"] == (EscalationStep(5, ("phone",)),
                                        EscalationStep(15, ("lead", "phone")))
    assert parsed.steps["high"] == () and parsed.digest == ("low",)
    assert parsed.remind_every_minutes == 30  # fields not given are kept
    assert parse_escalation({"steps": {"high": []}}, parsed).steps["critical"] == \
        parsed.steps["critical"]  # severities not given keep their steps


@pytest.mark.parametrize(("given", "field"), [
    ({"steps": []}, "steps"),
    ({"steps": {"urgent": []}}, "steps.urgent"),
    ({"steps": {"low": [{"after_minutes": 5, "channels": ["a"]}] * 6}}, "steps.low"),
    ({"steps": {"low": [{"after_minutes": -1, "channels": ["a"]}]}},
     "steps.low[0].after_minutes"),
    ({"steps": {"low": [{"after_minutes": 1441, "channels": ["a"]}]}},
     "steps.low[0].after_minutes"),
    ({"steps": {"low": [{"after_minutes": True, "channels": ["a"]}]}},
     "steps.low[0].after_minutes"),
    ({"steps": {"low": [{"after_minutes": 5, "channels": ["a"]},
                        {"after_minutes": 5, "channels": ["b"]}]}},
     "steps.low[1].after_minutes"),
    ({"steps": {"low": [{"after_minutes": 5, "channels": []}]}}, "steps.low[0].channels"),
    ({"steps": {"low": [{"after_minutes": 5, "channels": [" "]}]}}, "steps.low[0].channels"),
    ({"steps": {"low": [{"after_minutes": 5, "channels": ["a"], "who": 1}]}}, "steps.low[0]"),
    ({"steps": {"low": ["a"]}}, "steps.low[0]"),
    ({"digest": "low"}, "digest"),
    ({"digest": ["P4"]}, "digest"),
    ({"digest": ["low"], "steps": {"low": [{"after_minutes": 5, "channels": ["a"]}]}},
     "steps.low"),
])
def test_a_bad_step_or_digest_is_refused_naming_its_field(given, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_escalation(given, GLOBAL)
    assert list(refused.value.errors) == [field]


def test_a_step_naming_no_channel_is_refused_and_nothing_is_saved() -> None:
    with pytest.raises(InvalidInput) as refused:
        save_escalation_settings({"remind_every_minutes": 15, "steps": {
            "critical": [{"after_minutes": 5, "channels": ["nobody"]}]}}, actor="admin")
    assert refused.value.errors == {"steps.critical[0].channels": "no channel is named 'nobody'"}
    assert escalation_settings() == EscalationSettings()


# --- when each step is due (pure) -------------------------------------------------------------

OPS = ChannelRule(1, ("down", "up"))
PHONE = ChannelRule(2, ("down", "up"))
LEAD = ChannelRule(3, ("down",))
ASLEEP = ChannelRule(4, ("down",), quiet=QuietHours("00:00", "23:59", "UTC", "critical"))
STEPS = [Step(5, [PHONE]), Step(15, [LEAD, ASLEEP])]


def due(channel: ChannelRule, at: datetime, sequence: int, kind: str = "down") -> PlannedDelivery:
    return PlannedDelivery(channel.id, kind, at, True, sequence)


@pytest.mark.parametrize(("kind", "severity", "now", "planned"), [
    pytest.param("down", "high", T0, [due(PHONE, T0 + minutes(5), 1),
                                      due(LEAD, T0 + minutes(15), 2)],
                 id="a channel in quiet hours for this severity is left out of its step"),
    pytest.param("down", "critical", T0, [due(PHONE, T0 + minutes(5), 1),
                                          due(LEAD, T0 + minutes(15), 2),
                                          due(ASLEEP, T0 + minutes(15), 2)],
                 id="quiet hours let a critical one through"),
    pytest.param("down", "high", T0 + minutes(10), [due(PHONE, T0 + minutes(10), 1),
                                                    due(LEAD, T0 + minutes(15), 2)],
                 id="planned late: a step already due is due now"),
    pytest.param("flapping", "high", T0, [due(PHONE, T0 + minutes(5), 1, "flapping"),
                                          due(LEAD, T0 + minutes(15), 2, "flapping")],
                 id="flapping escalates like an outage"),
    pytest.param("up", "high", T0, [], id="a recovery has no steps"),
    pytest.param("degraded", "high", T0, [], id="degraded pages no step"),
])
def test_when_each_step_falls_due(kind, severity, now, planned) -> None:
    assert step_deliveries(kind, "down", severity, T0, STEPS, now) == planned


# --- through the dispatcher, the clock driven -------------------------------------------------

DELIVERIES = Delivery.__table__


def new_monitor(name: str = "API") -> int:
    return create_monitor(parse_monitor_input({"name": name, "url": "http://127.0.0.1:1/"})).id


def slack_channel(server: FakeHTTPServer, name: str) -> int:
    with get_engine().begin() as connection:
        return connection.execute(insert(AlertChannel.__table__).values(
            name=name, kind="slack_webhook", config={},
            secrets={"webhook_url": server.url + "/hook"},
            events=["down", "up", "degraded", "certificate", "maintenance"],
        )).inserted_primary_key[0]


def rows(*where) -> list[dict]:
    with get_engine().connect() as connection:
        return [dict(r) for r in connection.execute(
            select(DELIVERIES).where(*where).order_by(DELIVERIES.c.id)).mappings()]


def monitor_of(delivery: dict) -> int:
    with get_engine().connect() as connection:
        return connection.execute(select(StateChange.__table__.c.monitor_id).where(
            StateChange.__table__.c.id == delivery["event_id"])).scalar_one()


def drain(dispatcher: Dispatcher, until, timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, "dispatcher did not finish in time"
        dispatcher.run_once()
        time.sleep(0.02)


def settle(dispatcher: Dispatcher) -> None:
    dispatcher._housekeeping_at = 0
    dispatcher.run_once()
    deadline = time.monotonic() + 8
    while dispatcher._in_flight:
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.fixture
def servers() -> Iterator[tuple[FakeHTTPServer, FakeHTTPServer, FakeHTTPServer]]:
    with FakeHTTPServer() as ops, FakeHTTPServer() as phone, FakeHTTPServer() as lead:
        yield ops, phone, lead


def test_steps_fire_at_0_5_and_15_minutes_and_an_acknowledgement_stops_the_rest(
    servers: tuple[FakeHTTPServer, FakeHTTPServer, FakeHTTPServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ops, phone, lead = servers
    ops_id = slack_channel(ops, "ops")
    slack_channel(phone, "phone")
    slack_channel(lead, "lead")
    save_escalation_settings({"steps": {"high": [
        {"after_minutes": 5, "channels": ["phone"]},
        {"after_minutes": 15, "channels": ["lead"]}]}}, actor="admin")
    monitor_id = new_monitor()
    with get_engine().begin() as connection:  # the first page is the monitor's routing
        connection.execute(insert(MonitorRoute.__table__).values(monitor_id=monitor_id,
                                                                 channel_id=ops_id))
    began = datetime.now(UTC).replace(microsecond=0)
    record_result(monitor_id, ProbeResult("down", began, reason="HTTP 503"))
    clock = {"now": began + minutes(1)}
    monkeypatch.setattr("notifiers.dispatcher.now_utc", lambda: clock["now"])

    def run_at(offset_minutes: float) -> Dispatcher:
        clock["now"] = began + minutes(offset_minutes)
        dispatcher = Dispatcher(get_engine(), get_settings())  # each round a fresh process
        dispatcher.prepare()
        settle(dispatcher)
        settle(dispatcher)
        dispatcher._pool.shutdown(wait=True)
        return dispatcher

    run_at(1)
    assert (len(ops.requests), len(phone.requests), len(lead.requests)) == (1, 0, 0)
    run_at(5.5)
    assert (len(ops.requests), len(phone.requests), len(lead.requests)) == (1, 1, 0)
    assert phone.requests[0].json()["text"].startswith("DOWN")
    run_at(6)  # a restart between steps repeats none
    assert (len(ops.requests), len(phone.requests), len(lead.requests)) == (1, 1, 0)
    with get_engine().begin() as connection:
        (incident_id,) = connection.execute(select(Incident.__table__.c.id)).scalars()
        assert alerting.acknowledge(connection, incident_id, "alice", clock["now"])
    run_at(16)
    assert (len(ops.requests), len(phone.requests), len(lead.requests)) == (1, 1, 0)
    steps = rows(DELIVERIES.c.sequence > 0)
    assert [(s["sequence"], s["status"]) for s in steps] == [(1, "delivered"), (2, "skipped")]
    assert steps[1]["last_error"] == "incident acknowledged before this step"


# --- configuration as code --------------------------------------------------------------------


def test_steps_and_the_digest_are_exported_and_applied_as_code() -> None:
    with FakeHTTPServer() as phone:
        slack_channel(phone, "phone")
    wanted = {"remind_every_minutes": 15, "digest": ["low"],
              "steps": {"critical": [{"after_minutes": 5, "channels": ["phone"]}]}}
    source = dump_document({"upwatch": VERSION, "escalation": wanted})
    apply(parse_document(source, document_rules(), {}))
    exported = export_document()["escalation"]
    assert exported["steps"]["critical"] == [{"after_minutes": 5, "channels": ["phone"]}]
    assert (exported["digest"], exported["remind_every_minutes"]) == (["low"], 15)
    apply(parse_document(dump_document({"upwatch": VERSION, "escalation": exported}),
                         document_rules(), {}))
    assert export_document()["escalation"] == exported  # a round trip changes nothing
    unknown = {"steps": {"high": [{"after_minutes": 5, "channels": ["pager"]}]}}
    with pytest.raises(InvalidDocument) as refused:
        apply(parse_document(dump_document({"upwatch": VERSION, "escalation": unknown}),
                             document_rules(), {}))
    assert "escalation.steps.high[0].channels: no channel is named 'pager'" in str(refused.value)
    assert export_document()["escalation"] == exported


# --- the API and the Alerting page ------------------------------------------------------------

AUTH = {"Authorization": "Bearer s3cret-token"}
PATH = "/api/v1/alerting/escalation"


def test_the_api_reads_and_changes_the_steps_under_its_etag() -> None:
    with FakeHTTPServer() as phone:
        slack_channel(phone, "phone")
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        first = client.get(PATH, headers=AUTH)
        assert first.json()["steps"] == {s: [] for s in ("critical", "high", "medium", "low")}
        step = {"after_minutes": 10, "channels": ["phone"]}
        changed = client.patch(PATH, json={"steps": {"critical": [step]}, "digest": ["low"]},
                               headers={**AUTH, "If-Match": first.headers["ETag"]})
        assert changed.status_code == 200
        assert changed.json()["steps"]["critical"] == [step]
        assert changed.json()["digest"] == ["low"]
        assert changed.headers["ETag"] != first.headers["ETag"]
        stale = client.patch(PATH, json={"digest": []},
                             headers={**AUTH, "If-Match": first.headers["ETag"]})
        assert stale.status_code == 412
        refused = client.patch(PATH, headers=AUTH, json={"steps": {"high": [
            {"after_minutes": 5, "channels": ["pager"]}]}})
        assert refused.status_code == 422 and "steps.high[0].channels" in refused.text
        assert client.get(PATH, headers=AUTH).json() == changed.json()


def test_the_alerting_page_saves_steps_and_the_digest() -> None:
    with FakeHTTPServer() as phone:
        slack_channel(phone, "phone")
    at = logged_in("alerting_page.py")
    at.number_input(key="step_critical_0_minutes").set_value(5)
    at.multiselect(key="step_critical_0_channels").set_value(["phone"])
    at.checkbox(key="digest_low").check()
    next(b for b in at.button if b.label == "Save steps and digest").click()
    at.run()
    assert any("1 escalation steps; hourly digest for: low" in s.value for s in at.success)
    saved = escalation_settings()
    assert saved.steps["critical"] == (EscalationStep(5, ("phone",)),)
    assert saved.digest == ("low",)
    # Steps for a severity that goes to the digest are refused, with the form's words.
    at.multiselect(key="step_low_1_channels").set_value(["phone"])
    next(b for b in at.button if b.label == "Save steps and digest").click()
    at.run()
    assert any("P4 · low" in e.value and "digest" in e.value for e in at.error)
    assert escalation_settings() == saved
