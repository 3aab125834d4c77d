"""What the recorder does for paging: maintenance marking, certificate warnings, incidents, and the
maintenance notices a window asks for (or not). Through record_result, on SQLite and on
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage import alerting
from storage.alerting_models import AlertChannel, CertificateWarning, Delivery
from storage.db import get_engine, session_scope
from storage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    MonitorState,
    RollupRow,
    StateChange,
    as_utc,
)
from storage.monitors import create_monitor
from storage.results import record_result
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("backend")

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # all inside one hour: one hourly rollup


def new_monitor(name: str = "API") -> int:
    return create_monitor(parse_monitor_input({"name": name, "url": "http://127.0.0.1:1/"})).id


def result(outcome: str, seconds: float, **extra: object) -> ProbeResult:
    reason = None if outcome == "up" else "HTTP 503"
    return ProbeResult(outcome, T0 + timedelta(seconds=seconds), reason=reason,  # type: ignore[arg-type]
                       **extra)


def rows(table, *where) -> list[dict]:
    with get_engine().connect() as connection:
        return [dict(r) for r in connection.execute(
            select(table).where(*where).order_by(*table.primary_key.columns)).mappings()]


def add_window(monitor_id: int | None, notify: bool, **extra: object) -> None:
    with session_scope() as session:
        session.add(MaintenanceWindow(
            title="DB upgrade", monitor_id=monitor_id, notify=notify,
            starts_at=T0 + timedelta(seconds=30), ends_at=T0 + timedelta(seconds=150), **extra))


def add_every_event_channel() -> None:
    with get_engine().begin() as connection:
        connection.execute(insert(AlertChannel.__table__).values(
            name="ops", kind="slack_webhook", config={},
            secrets={"webhook_url": "https://hooks.slack.invalid/x"},
            events=["down", "up", "degraded", "certificate", "maintenance"]))


def plan_all() -> list[str]:
    """Plan every recorded event, as the dispatcher does; the planned notice kinds."""
    with get_engine().begin() as connection:
        for event_id in alerting.unplanned_events(connection):
            alerting.plan_event(connection, event_id, datetime.now(UTC))
    return [d["kind"] for d in rows(Delivery.__table__)]


def run_through_a_window(monitor_id: int) -> None:
    record_result(monitor_id, result("up", 0))
    record_result(monitor_id, result("down", 60))  # inside the window (10:00:30-10:02:30)
    assert rows(MonitorState.__table__)[0]["state"] == "maintenance"
    record_result(monitor_id, result("down", 120))
    record_result(monitor_id, result("up", 180))  # the window is over


# --- maintenance ------------------------------------------------------------------------------


def test_results_inside_a_window_are_recorded_as_maintenance_and_page_nobody() -> None:
    add_every_event_channel()
    monitor_id = new_monitor()
    add_window(monitor_id, notify=False)
    run_through_a_window(monitor_id)
    # Every result is kept as the probe saw it; the state says maintenance.
    assert [r["outcome"] for r in rows(CheckResult.__table__)] == ["up", "down", "down", "up"]
    moves = [(c["from_state"], c["to_state"]) for c in rows(StateChange.__table__)]
    assert moves == [("pending", "up"), ("up", "maintenance"), ("maintenance", "up")]
    assert rows(Incident.__table__) == []
    assert plan_all() == []  # no page, and this window asked for no notices
    (hour,) = rows(RollupRow.__table__, RollupRow.__table__.c.period == "hour")
    # up 10:00-10:01, maintenance 10:01-10:03 (the two failures are not downtime)
    assert (hour["up_s"], hour["maintenance_s"], hour["down_s"]) == (60, 120, 0)
    assert hour["checks"] == 4


def test_a_window_with_notify_sends_a_start_and_an_end_notice() -> None:
    add_every_event_channel()
    monitor_id = new_monitor()
    add_window(monitor_id, notify=True)
    run_through_a_window(monitor_id)
    assert plan_all() == ["maintenance_start", "maintenance_end"]


def test_a_group_window_covers_its_group_only() -> None:
    add_every_event_channel()
    inside, outside = new_monitor("API"), new_monitor("Web")
    with session_scope() as session:
        from storage.models import Monitor

        session.get(Monitor, inside).group_name = "Backend"
    add_window(None, notify=True, group_name="Backend")
    for monitor_id in (inside, outside):
        record_result(monitor_id, result("up", 0))
        record_result(monitor_id, result("down", 60))
    states = {r["monitor_id"]: r["state"] for r in rows(MonitorState.__table__)}
    assert states == {inside: "maintenance", outside: "down"}
    assert sorted(plan_all()) == ["down", "maintenance_start"]


# --- certificate warnings ---------------------------------------------------------------------


def certificate_check(monitor_id: int, hours: int, days_left: int, not_after: str) -> None:
    record_result(monitor_id, result("up", hours * 3600,
                                     tls={"days_left": days_left, "not_after": not_after}))


def certificate_events() -> list[str]:
    return [c["reason"] for c in rows(StateChange.__table__)
            if c["kind"] == "certificate"]


def test_certificate_warnings_fire_once_each_at_30_14_and_7_days() -> None:
    monitor_id = new_monitor()
    old = "2026-02-01T00:00:00+00:00"
    for hours, days_left in enumerate((45, 31, 30, 29, 20, 14, 13, 8, 7, 6, 5)):
        certificate_check(monitor_id, hours, days_left, old)
    assert certificate_events() == [
        "TLS certificate expires in 30 days (2026-02-01)",
        "TLS certificate expires in 14 days (2026-02-01)",
        "TLS certificate expires in 7 days (2026-02-01)",
    ]
    # A renewed certificate (another not_after) is a new certificate: it may warn again.
    new = "2026-01-20T00:00:00+00:00"
    certificate_check(monitor_id, 12, 14, new)
    certificate_check(monitor_id, 13, 14, new)
    assert certificate_events()[3:] == ["TLS certificate expires in 14 days (2026-01-20)"]
    warned = {(w["not_after"], w["threshold_days"])
              for w in rows(CertificateWarning.__table__)}
    assert warned == {(old, 30), (old, 14), (old, 7), (new, 30), (new, 14)}
    [state] = rows(MonitorState.__table__)
    assert as_utc(state["cert_not_after"]) == datetime.fromisoformat(new)  # the latest one seen


def test_a_certificate_found_late_warns_once_not_three_times() -> None:
    add_every_event_channel()
    monitor_id = new_monitor()
    certificate_check(monitor_id, 0, 5, "2026-01-10T00:00:00+00:00")
    certificate_check(monitor_id, 1, 4, "2026-01-10T00:00:00+00:00")
    assert certificate_events() == ["TLS certificate expires in 5 days (2026-01-10)"]
    assert plan_all() == ["certificate"]


# --- incidents --------------------------------------------------------------------------------


def test_down_opens_an_incident_and_recovery_closes_it_with_its_duration() -> None:
    monitor_id = new_monitor()
    record_result(monitor_id, result("up", 0))
    record_result(monitor_id, result("down", 60))
    (incident,) = rows(Incident.__table__)
    assert (incident["status"], incident["cause"], incident["resolved_at"]) == (
        "investigating", "HTTP 503", None)
    assert incident["title"] == "API is down"
    (opened,) = rows(IncidentUpdate.__table__)
    assert (opened["status"], opened["message"]) == ("investigating", "API is down.")
    down_event = rows(StateChange.__table__, StateChange.__table__.c.to_state == "down")[0]
    assert down_event["incident_id"] == incident["id"]

    record_result(monitor_id, result("down", 120))  # still the same incident
    record_result(monitor_id, result("up", 60 + 12 * 60))
    (incident,) = rows(Incident.__table__)
    assert incident["status"] == "resolved"
    resolved_at = incident["resolved_at"].replace(tzinfo=UTC)
    started_at = incident["started_at"].replace(tzinfo=UTC)
    assert resolved_at - started_at == timedelta(minutes=12)
    closing = rows(IncidentUpdate.__table__)[-1]
    assert (closing["status"], closing["message"]) == (
        "resolved", "API was down for 12 min; it recovered.")
    up_event = rows(StateChange.__table__, StateChange.__table__.c.from_state == "down")[0]
    assert up_event["incident_id"] == incident["id"]
