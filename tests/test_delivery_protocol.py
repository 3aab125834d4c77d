"""The delivery protocol's statements on a real database, with the clock passed in: planning
(who hears an event, a monitor's severity against quiet hours), claiming and leases (a sender
that died mid-send, renewing a lease), giving up after an hour, acknowledging one incident of
two, and a flapping monitor settling. SQLite only: the statements are the same on PostgreSQL,
where tests/test_dispatch.py and tests/test_delivery_order.py run them too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage import alerting, deliveries
from storage.alerting_models import AlertChannel, AlertSettings, Delivery, DeliveryAttempt
from storage.db import get_engine
from storage.models import Incident, Monitor, StateChange
from storage.monitors import create_monitor
from storage.results import record_result
from storage.tables import table_of, utc

CHANNELS = table_of(AlertChannel)
DELIVERIES = table_of(Delivery)
ATTEMPTS = table_of(DeliveryAttempt)
CHANGES = table_of(StateChange)
INCIDENTS = table_of(Incident)
MONITORS = table_of(Monitor)
SETTINGS = table_of(AlertSettings)
FLAPS = alerting.FLAPS

# Noon UTC on a Monday; every statement is given its time, so nothing here reads the clock.
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LEASE = deliveries.LEASE


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add_channel(name: str = "ops", **extra: object) -> int:
    with get_engine().begin() as connection:
        return connection.execute(insert(CHANNELS).values(
            name=name, kind="webhook", config={}, secrets={"url": "http://127.0.0.1:1/"},
            events=["down", "up", "degraded", "certificate", "maintenance"], **extra,
        )).inserted_primary_key[0]


def add_monitor(name: str, severity: str | None = None) -> int:
    monitor_id = create_monitor(parse_monitor_input(
        {"name": name, "url": "http://127.0.0.1:1/"})).id
    if severity is not None:
        with get_engine().begin() as connection:
            connection.execute(update(MONITORS).where(MONITORS.c.id == monitor_id)
                               .values(severity=severity))
    return monitor_id


def record(monitor_id: int, outcome: str, seconds: float) -> None:
    record_result(monitor_id, ProbeResult(
        outcome, at(seconds), reason=None if outcome == "up" else "HTTP 503"))  # type: ignore[arg-type]


def plan(seconds: float) -> int:
    return deliveries.plan_new_events(get_engine(), at(seconds))


def rows(table, *where) -> list[dict]:
    with get_engine().connect() as connection:
        return [dict(r) for r in connection.execute(
            select(table).where(*where).order_by(*table.primary_key.columns)).mappings()]


def delivery(delivery_id: int) -> dict:
    (row,) = rows(DELIVERIES, DELIVERIES.c.id == delivery_id)
    return row


def one_page(channel: str = "ops") -> int:
    """A monitor goes down at T0 and its page to `channel` is planned; the delivery's id."""
    add_channel(channel)
    record(add_monitor("API"), "up", -60)
    record(1, "down", 0)
    assert plan(0) == 1
    (page,) = rows(DELIVERIES, DELIVERIES.c.kind == "down")
    return page["id"]


# --- planning -----------------------------------------------------------------------------------


def test_an_event_is_planned_once_and_claimed_by_the_first_planner() -> None:
    add_channel("a")
    add_channel("b")
    monitor = add_monitor("API")
    record(monitor, "up", 0)
    record(monitor, "down", 10)
    assert plan(10) == 2  # one page per channel (the first "up" is not news)
    assert plan(11) == 0  # already claimed
    (event,) = rows(CHANGES, CHANGES.c.to_state == "down")
    with get_engine().begin() as connection:
        assert alerting.plan_event(connection, event["id"], at(12)) == 0
    assert utc(event["dispatched_at"]) == at(10)
    pages = rows(DELIVERIES)
    assert [(p["kind"], p["status"], p["attempts"]) for p in pages] == [("down", "pending", 0)] * 2
    assert {utc(p["next_attempt_at"]) for p in pages} == {at(10)}
    assert {p["incident_id"] for p in pages} == {event["incident_id"]} != {None}


def test_a_monitors_severity_decides_who_hears_it_during_quiet_hours() -> None:
    # quiet all day for anything below high
    add_channel("night", quiet_start="00:00", quiet_end="23:59", quiet_min_severity="high")
    for name, severity in (("low", "low"), ("high", "high"), ("critical", "critical")):
        monitor = add_monitor(name, severity)
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    assert plan(10) == 2
    paged = {row.name for row in _paged_monitors()}
    assert paged == {"high", "critical"}


def _paged_monitors() -> list:
    query = (select(MONITORS.c.name).join(CHANGES, CHANGES.c.monitor_id == MONITORS.c.id)
             .join(DELIVERIES, DELIVERIES.c.event_id == CHANGES.c.id))
    with get_engine().connect() as connection:
        return list(connection.execute(query))


def test_a_recovery_goes_to_the_channel_paged_even_when_it_was_disabled_since() -> None:
    channel = add_channel("ops")
    monitor = add_monitor("API")
    record(monitor, "up", 0)
    record(monitor, "down", 10)
    assert plan(10) == 1
    with get_engine().begin() as connection:
        connection.execute(update(CHANNELS).where(CHANNELS.c.id == channel).values(enabled=False))
    record(monitor, "up", 20)
    assert plan(20) == 1
    recovery = rows(DELIVERIES, DELIVERIES.c.kind == "up")
    assert [r["channel_id"] for r in recovery] == [channel]


def test_a_recovery_waits_for_its_outage_page_on_the_same_channel() -> None:
    page = one_page()
    record(1, "up", 10)
    assert plan(10) == 1
    (recovery,) = rows(DELIVERIES, DELIVERIES.c.kind == "up")
    assert deliveries.due_deliveries(get_engine(), at(10), limit=10) == [page]
    assert deliveries.claim(get_engine(), page, at(10)) is not None
    assert deliveries.due_deliveries(get_engine(), at(11), limit=10) == []  # the page is sending
    deliveries.finish(get_engine(), delivery(page), "ops", at(11), error=None)
    assert deliveries.due_deliveries(get_engine(), at(11), limit=10) == [recovery["id"]]


# --- claiming, leases, outcomes -----------------------------------------------------------------


def test_a_delivery_is_due_only_once_its_attempt_time_came() -> None:
    page = one_page()
    with get_engine().begin() as connection:
        connection.execute(update(DELIVERIES).where(DELIVERIES.c.id == page)
                           .values(next_attempt_at=at(30)))
    assert deliveries.due_deliveries(get_engine(), at(29), limit=10) == []
    assert deliveries.claim(get_engine(), page, at(29)) is None
    assert deliveries.due_deliveries(get_engine(), at(30), limit=10) == [page]
    assert deliveries.due_deliveries(get_engine(), at(30), limit=0) == []


def test_a_claim_takes_the_delivery_for_one_lease_and_counts_the_attempt() -> None:
    page = one_page()
    claimed = deliveries.claim(get_engine(), page, at(1))
    assert claimed is not None and claimed.interrupted is False
    row = delivery(page)
    assert (row["status"], row["attempts"]) == ("sending", 1)
    assert (utc(row["lease_until"]), utc(row["first_attempt_at"])) == (at(1) + LEASE, at(1))
    assert claimed.delivery["id"] == page and claimed.delivery["status"] == "sending"
    # a second sender gets nothing while the lease holds, even at its last instant
    assert deliveries.claim(get_engine(), page, at(1) + LEASE) is None
    assert deliveries.due_deliveries(get_engine(), at(1) + LEASE, limit=10) == []
    assert rows(ATTEMPTS) == []


def test_a_sender_killed_mid_send_is_reclaimed_after_its_lease() -> None:
    page = one_page()
    assert deliveries.claim(get_engine(), page, at(1)) is not None
    # the sender dies: no finish; once the lease expired the delivery is due again
    after = at(1) + LEASE + timedelta(seconds=1)
    assert deliveries.due_deliveries(get_engine(), after, limit=10) == [page]
    again = deliveries.claim(get_engine(), page, after)
    assert again is not None and again.interrupted is True
    row = delivery(page)
    assert (row["status"], row["attempts"]) == ("sending", 2)
    assert utc(row["lease_until"]) == after + LEASE
    assert utc(row["first_attempt_at"]) == at(1)  # the retry window runs from the first try
    (attempt,) = rows(ATTEMPTS)
    assert (attempt["delivery_id"], attempt["channel_name"], attempt["outcome"]) == (
        page, "ops", "interrupted")
    assert utc(attempt["at"]) == after and "stopped before recording" in attempt["error"]


def test_renewing_a_lease_keeps_other_senders_off_and_touches_only_sending_rows() -> None:
    page = one_page()
    record(1, "up", 5)
    assert plan(5) == 1
    (recovery,) = rows(DELIVERIES, DELIVERIES.c.kind == "up")
    assert deliveries.claim(get_engine(), page, at(1)) is not None
    renewed_at = at(1) + LEASE - timedelta(seconds=1)
    deliveries.renew_leases(get_engine(), [page, recovery["id"]], renewed_at)
    assert utc(delivery(page)["lease_until"]) == renewed_at + LEASE
    assert delivery(recovery["id"])["lease_until"] is None  # pending: not anybody's lease
    assert delivery(recovery["id"])["status"] == "pending"
    # past the first lease but inside the renewed one: still the sender's
    assert deliveries.claim(get_engine(), page, at(1) + LEASE + timedelta(seconds=1)) is None
    deliveries.renew_leases(get_engine(), [], renewed_at)  # nothing to renew is fine
    assert deliveries.claim(get_engine(), page, renewed_at + LEASE + timedelta(seconds=1))


def test_renewing_one_lease_leaves_other_senders_leases_alone() -> None:
    add_channel("a")
    add_channel("b")
    record(add_monitor("API"), "up", -60)
    record(1, "down", 0)
    assert plan(0) == 2
    first, second = (row["id"] for row in rows(DELIVERIES))
    assert deliveries.claim(get_engine(), first, at(1)) is not None
    assert deliveries.claim(get_engine(), second, at(1)) is not None
    deliveries.renew_leases(get_engine(), [first], at(4))
    assert utc(delivery(first)["lease_until"]) == at(4) + LEASE
    assert utc(delivery(second)["lease_until"]) == at(1) + LEASE


def test_a_delivered_notice_clears_the_lease_and_the_channels_failing_mark() -> None:
    page = one_page()
    with get_engine().begin() as connection:
        connection.execute(update(CHANNELS).values(failing_since=at(-100), failing_error="x"))
    deliveries.claim(get_engine(), page, at(1))
    status = deliveries.finish(get_engine(), delivery(page), "ops", at(2), error=None,
                               duration_ms=12.5)
    row = delivery(page)
    assert status == "delivered"
    assert (row["status"], row["lease_until"], utc(row["delivered_at"])) == (
        "delivered", None, at(2))
    (channel,) = rows(CHANNELS)
    assert (channel["failing_since"], channel["failing_error"]) == (None, None)
    (attempt,) = rows(ATTEMPTS)
    assert (attempt["outcome"], attempt["duration_ms"], utc(attempt["at"])) == (
        "delivered", 12.5, at(2))
    assert deliveries.due_deliveries(get_engine(), at(3600), limit=10) == []


def test_a_failing_channel_is_retried_with_backoff_then_given_up_an_hour_after_the_first_try(
) -> None:
    page = one_page()
    now = at(1)
    statuses = []
    while True:
        claimed = deliveries.claim(get_engine(), page, now)
        assert claimed is not None
        status = deliveries.finish(get_engine(), claimed.delivery, "ops", now, error="HTTP 500")
        statuses.append(status)
        if status != "pending":
            break
        row = delivery(page)
        assert row["lease_until"] is None and row["last_error"] == "HTTP 500"
        waited = utc(row["next_attempt_at"]) - now
        assert waited > timedelta(0)
        assert deliveries.claim(get_engine(), page, now + waited - timedelta(seconds=0.1)) is None
        now += waited
        assert now - at(1) <= timedelta(hours=1), "still retrying after an hour"
    row = delivery(page)
    assert statuses[-1] == "failed" and set(statuses[:-1]) == {"pending"}
    assert len(statuses) > 5  # retried, not failed on the first error
    # gave up within the last (five-minute) backoff before the hour was up
    assert timedelta(minutes=54) <= now - at(1) <= timedelta(hours=1)
    assert row["last_error"] == "HTTP 500 (gave up after retrying for an hour)"
    (channel,) = rows(CHANNELS)
    assert utc(channel["failing_since"]) == now and "gave up" in channel["failing_error"]
    assert [a["outcome"] for a in rows(ATTEMPTS)] == ["retry"] * (len(statuses) - 1) + ["gave_up"]
    assert deliveries.due_deliveries(get_engine(), now + timedelta(hours=2), limit=10) == []


def test_a_permanent_error_fails_at_once_and_marks_the_channel_failing() -> None:
    page = one_page()
    claimed = deliveries.claim(get_engine(), page, at(1))
    assert claimed is not None
    status = deliveries.finish(get_engine(), claimed.delivery, "ops", at(2),
                               error="invalid number", permanent=True)
    assert status == "failed" and delivery(page)["status"] == "failed"
    (channel,) = rows(CHANNELS)
    assert (utc(channel["failing_since"]), channel["failing_error"]) == (at(2), "invalid number")
    assert [a["outcome"] for a in rows(ATTEMPTS)] == ["permanent"]


def test_retry_after_from_the_provider_is_honoured() -> None:
    page = one_page()
    claimed = deliveries.claim(get_engine(), page, at(1))
    assert claimed is not None
    deliveries.finish(get_engine(), claimed.delivery, "ops", at(2), error="HTTP 429",
                      retry_after=90)
    assert utc(delivery(page)["next_attempt_at"]) == at(92)


# --- escalations, acknowledgement --------------------------------------------------------------


def test_acknowledging_one_incident_leaves_the_others_open_and_paging() -> None:
    add_channel("now")
    add_channel("later", escalate_after_minutes=5)
    first, second = add_monitor("A"), add_monitor("B")
    for monitor in (first, second):
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    assert plan(10) == 4
    incidents = rows(INCIDENTS)
    assert len(incidents) == 2
    with get_engine().begin() as connection:
        assert alerting.acknowledge(connection, incidents[0]["id"], "ana", at(20)) is True
        assert alerting.acknowledge(connection, incidents[0]["id"], "bo", at(21)) is False
    acknowledged, still_open = rows(INCIDENTS)
    assert (acknowledged["acknowledged_by"], utc(acknowledged["acknowledged_at"])) == (
        "ana", at(20))
    assert (still_open["acknowledged_by"], still_open["acknowledged_at"]) == (None, None)
    escalations = {row["incident_id"]: row["id"] for row in rows(
        DELIVERIES, DELIVERIES.c.needs_open_incident.is_(True))}
    due = at(10 + 5 * 60)
    assert deliveries.claim(get_engine(), escalations[acknowledged["id"]], due) is None
    assert delivery(escalations[acknowledged["id"]])["status"] == "skipped"
    assert deliveries.claim(get_engine(), escalations[still_open["id"]], due) is not None


def test_an_acknowledgement_keeps_only_the_first_hundred_characters_of_the_name() -> None:
    one_page()
    (incident,) = rows(INCIDENTS)
    with get_engine().begin() as connection:
        assert alerting.acknowledge(connection, incident["id"], "x" * 150, at(5))
    assert rows(INCIDENTS)[0]["acknowledged_by"] == "x" * 100


# --- flapping ------------------------------------------------------------------------------------


def flap_settings(changes: int, window_minutes: int) -> None:
    with get_engine().begin() as connection:
        alerting.alert_settings(connection)
        connection.execute(update(SETTINGS).values(flap_changes=changes,
                                                   flap_window_minutes=window_minutes))


def test_a_flapping_monitor_settles_once_after_a_quiet_window_where_it_ended_up() -> None:
    add_channel("ops")
    flap_settings(changes=2, window_minutes=10)
    monitor = add_monitor("API")
    for step, outcome in enumerate(["up", "down", "up", "down"]):
        record(monitor, outcome, step * 10)
        plan(step * 10)
    assert rows(FLAPS) != []  # the third transition in ten minutes made it flapping
    last_change = at(30)
    settle = deliveries.plan_timers
    # not settled while a change is less than a whole window old
    assert settle(get_engine(), last_change + timedelta(minutes=10, seconds=-1)) == 0
    assert len(rows(FLAPS)) == 1
    assert rows(CHANGES, CHANGES.c.kind == "settled") == []
    assert settle(get_engine(), last_change + timedelta(minutes=10)) == 1
    assert rows(FLAPS) == []
    (settled,) = rows(CHANGES, CHANGES.c.kind == "settled")
    (incident,) = rows(INCIDENTS, INCIDENTS.c.resolved_at.is_(None))
    assert (settled["monitor_id"], settled["from_state"], settled["to_state"]) == (
        monitor, "flapping", "down")
    assert (settled["reason"], settled["incident_id"]) == ("HTTP 503", incident["id"])
    assert utc(settled["at"]) == last_change + timedelta(minutes=10)
    assert settle(get_engine(), last_change + timedelta(minutes=30)) == 0  # once


def test_a_settled_flap_that_ended_up_is_announced_as_a_recovery_without_an_incident() -> None:
    add_channel("ops")
    flap_settings(changes=2, window_minutes=10)
    monitor = add_monitor("API")
    for step, outcome in enumerate(["up", "down", "up", "down", "up"]):
        record(monitor, outcome, step * 10)
        plan(step * 10)
    before = len(rows(DELIVERIES))
    assert deliveries.plan_timers(get_engine(), at(40) + timedelta(minutes=10)) == 1
    (settled,) = rows(CHANGES, CHANGES.c.kind == "settled")
    assert (settled["to_state"], settled["reason"], settled["incident_id"]) == ("up", None, None)
    assert plan(40 + 600) == 1
    assert len(rows(DELIVERIES)) == before + 1
    assert rows(DELIVERIES)[-1]["kind"] == "up"


def test_two_flapping_monitors_settle_each_on_its_own_clock() -> None:
    flap_settings(changes=1, window_minutes=5)
    quick, slow = add_monitor("quick"), add_monitor("slow")
    for monitor, start in ((quick, 0), (slow, 200)):
        record(monitor, "up", start)
        record(monitor, "down", start + 10)
    plan(210)
    assert len(rows(FLAPS)) == 2
    assert deliveries.plan_timers(get_engine(), at(10 + 300)) == 1
    assert [f["monitor_id"] for f in rows(FLAPS)] == [slow]
    (settled,) = rows(CHANGES, CHANGES.c.kind == "settled")
    assert settled["monitor_id"] == quick
