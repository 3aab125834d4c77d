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
from storage.alerting_models import (
    AlertChannel,
    AlertSettings,
    Delivery,
    DeliveryAttempt,
    MonitorRoute,
)
from storage.db import get_engine
from storage.maintenance_admin import WindowInput, create_window
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
    values: dict[str, object] = {
        "kind": "webhook", "events": ["down", "up", "degraded", "certificate", "maintenance"],
        **extra}
    with get_engine().begin() as connection:
        return connection.execute(insert(CHANNELS).values(
            name=name, config={}, secrets={"url": "http://127.0.0.1:1/"}, **values,
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
    assert utc(attempt["at"]) == after
    assert attempt["error"] == (
        "the process sending this stopped before recording the outcome; sending again")


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
    attempts = rows(ATTEMPTS)
    assert [a["outcome"] for a in attempts] == ["retry"] * (len(statuses) - 1) + ["gave_up"]
    assert attempts[0]["error"] == "HTTP 500" and "gave up" in attempts[-1]["error"]
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


# --- what a sender reads ------------------------------------------------------------------------


def test_what_to_send_reads_the_channel_and_the_facts_of_the_notice() -> None:
    page = one_page()
    with get_engine().begin() as connection:
        connection.execute(update(MONITORS).values(runbook_url="https://wiki.example/api"))
    channel, facts = deliveries.what_to_send(get_engine(), delivery(page))
    assert (channel["name"], channel["kind"], channel["secrets"]) == (
        "ops", "webhook", {"url": "http://127.0.0.1:1/"})
    (incident,) = rows(INCIDENTS)
    assert facts == deliveries.NoticeFacts(
        "down", "HTTP 503", at(0), "API", "api", incident["id"], at(0), None,
        "https://wiki.example/api", "high")  # the incident's severity
    record(1, "up", 90)
    plan(90)
    (recovery,) = rows(DELIVERIES, DELIVERIES.c.kind == "up")
    _, facts = deliveries.what_to_send(get_engine(), recovery)
    assert (facts.to_state, facts.reason, facts.at) == ("up", None, at(90))
    assert (facts.incident_id, facts.incident_started_at, facts.incident_resolved_at) == (
        incident["id"], at(0), at(90))


def test_what_to_send_without_an_incident_or_a_monitor_row() -> None:
    add_channel("ops")
    monitor = add_monitor("API")
    record(monitor, "up", 0)
    record(monitor, "degraded", 10)
    plan(10)
    (notice,) = rows(DELIVERIES)
    _, facts = deliveries.what_to_send(get_engine(), notice)
    assert (facts.to_state, facts.incident_id, facts.incident_started_at) == (
        "degraded", None, None)
    assert facts.incident_resolved_at is None and facts.monitor_name == "API"
    gone = dict(notice, incident_id=12345)  # an incident deleted since
    assert deliveries.what_to_send(get_engine(), gone)[1].incident_id is None


def test_environment_channels_get_their_rows_once() -> None:
    deliveries.ensure_env_channels(get_engine(), {"env-sms": "sms", "env-hook": "webhook"})
    deliveries.ensure_env_channels(get_engine(), {"env-sms": "sms"})
    assert [(c["name"], c["kind"], c["source"]) for c in rows(CHANNELS)] == [
        ("env-sms", "sms", "env"), ("env-hook", "webhook", "env")]


# --- routes, recoveries, who was paged ----------------------------------------------------------


def test_a_monitor_with_routes_is_heard_only_on_its_enabled_routed_channels() -> None:
    routed, other, disabled = add_channel("a"), add_channel("b"), add_channel("c", enabled=False)
    first, second = add_monitor("A"), add_monitor("B")
    with get_engine().begin() as connection:
        connection.execute(insert(table_of(MonitorRoute)), [
            {"monitor_id": first, "channel_id": routed},
            {"monitor_id": first, "channel_id": disabled},
            {"monitor_id": second, "channel_id": other}])
    for monitor in (first, second):
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    plan(10)
    heard = {(row.name, row.channel_id) for row in _heard()}
    assert heard == {("A", routed), ("B", other)}


def _heard() -> list:
    query = (select(MONITORS.c.name, DELIVERIES.c.channel_id, DELIVERIES.c.kind)
             .join(CHANGES, CHANGES.c.monitor_id == MONITORS.c.id)
             .join(DELIVERIES, DELIVERIES.c.event_id == CHANGES.c.id)
             .order_by(DELIVERIES.c.id))
    with get_engine().connect() as connection:
        return list(connection.execute(query))


def test_a_recovery_goes_only_to_channels_that_were_paged_for_that_incident() -> None:
    add_channel("now")
    later = add_channel("later", escalate_after_minutes=5)
    failing = add_channel("failing")
    first, second = add_monitor("A"), add_monitor("B")
    for monitor in (first, second):
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    plan(10)
    by_channel = {(r["channel_id"], r["incident_id"]): r["id"] for r in rows(DELIVERIES)}
    a_incident, b_incident = (i["id"] for i in rows(INCIDENTS))
    # B's escalation fired (one attempt), A's did not; A's page to "failing" failed for good
    assert deliveries.claim(get_engine(), by_channel[(later, b_incident)], at(10 + 301))
    page = deliveries.claim(get_engine(), by_channel[(failing, a_incident)], at(11))
    assert page is not None
    deliveries.finish(get_engine(), page.delivery, "failing", at(12), "no", permanent=True)
    record(first, "up", 400)
    record(second, "up", 400)
    plan(400)
    recoveries = {(r.name, r.channel_id) for r in _heard() if r.kind == "up"}
    assert recoveries == {("A", 1), ("B", 1), ("B", later), ("B", failing)}


# --- reminders ----------------------------------------------------------------------------------


def remind_every(minutes: int) -> None:
    with get_engine().begin() as connection:
        alerting.alert_settings(connection)
        connection.execute(update(SETTINGS).values(remind_every_minutes=minutes))


def reminders() -> list[tuple[int, int, int | None, bool]]:
    return [(r["sequence"], r["channel_id"], r["incident_id"], r["needs_open_incident"])
            for r in rows(DELIVERIES, DELIVERIES.c.kind == "reminder")]


def test_reminders_fall_due_each_interval_once_to_every_paged_channel() -> None:
    page = one_page("a")
    add_channel("b", escalate_after_minutes=30)  # not paged yet: hears no reminder
    (incident,) = rows(INCIDENTS)
    (opening,) = rows(CHANGES, CHANGES.c.to_state == "down")
    remind_every(5)
    assert deliveries.plan_timers(get_engine(), at(299)) == 0
    assert reminders() == []
    deliveries.plan_timers(get_engine(), at(300))
    assert reminders() == [(1, delivery(page)["channel_id"], incident["id"], True)]
    deliveries.plan_timers(get_engine(), at(320))  # the same reminder, not planned twice
    deliveries.plan_timers(get_engine(), at(601))
    assert [r[0] for r in reminders()] == [1, 2]
    (reminder, *_) = rows(DELIVERIES, DELIVERIES.c.kind == "reminder")
    assert reminder["event_id"] == opening["id"] and reminder["status"] == "pending"
    assert utc(reminder["next_attempt_at"]) == at(300)


def test_no_reminders_when_off_acknowledged_resolved_or_nobody_was_paged() -> None:
    one_page("a")
    (incident,) = rows(INCIDENTS)
    deliveries.plan_timers(get_engine(), at(3600))  # reminders are off by default
    assert reminders() == []
    remind_every(5)
    with get_engine().begin() as connection:
        alerting.acknowledge(connection, incident["id"], "ana", at(30))
    deliveries.plan_timers(get_engine(), at(3600))
    assert reminders() == []
    # another monitor, paged on no channel: an open incident, nobody to remind
    with get_engine().begin() as connection:
        connection.execute(update(CHANNELS).values(enabled=False))
    other = add_monitor("B")
    record(other, "up", 0)
    record(other, "down", 10)
    plan(10)
    deliveries.plan_timers(get_engine(), at(3600))
    assert reminders() == []


def test_a_reminder_due_after_the_recovery_is_skipped() -> None:
    one_page("a")
    remind_every(5)
    deliveries.plan_timers(get_engine(), at(300))
    (reminder,) = rows(DELIVERIES, DELIVERIES.c.kind == "reminder")
    record(1, "up", 310)
    assert deliveries.claim(get_engine(), reminder["id"], at(320)) is None
    skipped = delivery(reminder["id"])
    assert (skipped["status"], skipped["lease_until"]) == ("skipped", None)
    assert skipped["last_error"] and "resolved" in skipped["last_error"]


# --- maintenance notices ------------------------------------------------------------------------


def window(notify: bool, monitor_id: int | None = None, group: str | None = None) -> None:
    create_window(WindowInput(
        title="upgrade", description="", monitor_id=monitor_id, group_name=group,
        starts_at=at(-600), ends_at=at(3600), cron=None, timezone="UTC",
        duration_minutes=None, notify=notify))


def event(monitor_id: int, from_state: str, to_state: str, seconds: float) -> None:
    with get_engine().begin() as connection:
        connection.execute(insert(CHANGES).values(
            monitor_id=monitor_id, at=at(seconds), from_state=from_state, to_state=to_state,
            kind="state"))


def test_maintenance_notices_only_for_windows_that_ask_for_them() -> None:
    add_channel("ops")
    loud, quiet, grouped, uncovered = (add_monitor(n) for n in ("Loud", "Quiet", "Db", "Web"))
    with get_engine().begin() as connection:
        connection.execute(update(MONITORS).where(MONITORS.c.id.in_([grouped, uncovered]))
                           .values(group_name="db"))
        connection.execute(update(MONITORS).where(MONITORS.c.id == uncovered)
                           .values(group_name="web"))
    window(True, monitor_id=loud)
    window(False, monitor_id=quiet)
    window(True, group="db")
    for monitor in (loud, quiet, grouped, uncovered):
        event(monitor, "up", "maintenance", 0)
    plan(0)
    # the end is judged by the window active when the monitor entered maintenance
    for monitor in (loud, quiet, grouped, uncovered):
        event(monitor, "maintenance", "up", 4000)
    plan(4000)
    heard = [(r.name, r.kind) for r in _heard()]
    assert sorted(heard) == [("Db", "maintenance_end"), ("Db", "maintenance_start"),
                             ("Loud", "maintenance_end"), ("Loud", "maintenance_start")]


def test_a_maintenance_end_without_a_start_asks_no_window() -> None:
    add_channel("ops")
    monitor = add_monitor("Loud")
    window(True, monitor_id=monitor)
    event(monitor, "maintenance", "up", 10)  # its start was never recorded
    assert plan(10) == 0
    assert rows(CHANGES)[0]["dispatched_at"] is not None


def test_flapping_monitors_settle_in_one_round_each_judged_by_its_own_changes() -> None:
    flap_settings(changes=1, window_minutes=5)
    still, calm, other = add_monitor("still"), add_monitor("calm"), add_monitor("other")
    record(other, "up", 0)
    record(other, "down", 5)  # another monitor's open incident
    for monitor in (still, calm):
        record(monitor, "up", 0)
        record(monitor, "down", 10)
        record(monitor, "up", 20)
    plan(20)
    assert {f["monitor_id"] for f in rows(FLAPS)} >= {still, calm}
    record(still, "down", 200)  # "still" keeps changing; the first flap row is not settled
    with get_engine().begin() as connection:  # a certificate event is not a state change
        connection.execute(insert(CHANGES).values(
            monitor_id=calm, at=at(300), from_state="up", to_state="up", kind="certificate"))
    settled_now = deliveries.plan_timers(get_engine(), at(20 + 300))
    settled = {s["monitor_id"]: s for s in rows(CHANGES, CHANGES.c.kind == "settled")}
    assert still not in settled and calm in settled
    assert settled[calm]["incident_id"] is None  # not the other monitor's incident
    assert settled_now == len(settled)
    assert deliveries.plan_timers(get_engine(), at(200 + 300)) == 1
    assert still in {s["monitor_id"] for s in rows(CHANGES, CHANGES.c.kind == "settled")}


def test_several_monitors_settling_together_are_all_counted() -> None:
    flap_settings(changes=1, window_minutes=5)
    monitors = [add_monitor(name) for name in ("a", "b", "c")]
    for monitor in monitors:
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    plan(10)
    assert len(rows(FLAPS)) == 3
    assert deliveries.plan_timers(get_engine(), at(10 + 300)) == 3


def test_flapping_counts_only_this_monitors_state_changes_in_the_window_up_to_this_one() -> None:
    add_channel("ops")
    flap_settings(changes=1, window_minutes=10)
    busy, steady = add_monitor("busy"), add_monitor("steady")
    record(steady, "up", 0)  # more than a window before its next change
    for step, outcome in enumerate(["up", "down", "up", "down", "up"]):
        record(busy, outcome, 650 + step)  # another monitor flapping meanwhile
    with get_engine().begin() as connection:  # certificate events are no state changes
        for second in (690, 695):
            connection.execute(insert(CHANGES).values(
                monitor_id=steady, at=at(second), from_state="up", to_state="up",
                kind="certificate"))
    record(steady, "down", 700)
    record(steady, "up", 710)  # recorded before the down is planned: not counted for it
    plan(710)
    assert [r.kind for r in _heard() if r.name == "steady"] == [
        "certificate", "certificate", "down", "flapping"]
    assert [r.kind for r in _heard() if r.name == "busy"] == ["flapping"]
    flaps = [(f["monitor_id"], utc(f["since"])) for f in rows(FLAPS)]
    assert flaps == [(busy, at(710)), (steady, at(710))]
    record(steady, "down", 720)
    assert plan(720) == 0  # flapping: quiet until it settles


def test_reminder_counts_and_each_incidents_own_opening_event() -> None:
    add_channel("ops")
    remind_every(5)
    unpaged, first, second = add_monitor("unpaged"), add_monitor("A"), add_monitor("B")
    record(unpaged, "up", 0)
    record(unpaged, "down", 1)
    with get_engine().begin() as connection:  # "unpaged"'s event was never planned
        connection.execute(update(CHANGES).values(dispatched_at=at(1)))
    for monitor in (first, second):
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    plan(10)
    with get_engine().begin() as connection:
        assert alerting.plan_reminders(connection, at(100)) == 0  # none due yet
        assert alerting.plan_reminders(connection, at(310)) == 2
        assert alerting.plan_reminders(connection, at(320)) == 0  # the same ones: planned once
    openings = {c["incident_id"]: c["id"] for c in rows(CHANGES, CHANGES.c.to_state == "down")}
    reminded = rows(DELIVERIES, DELIVERIES.c.kind == "reminder")
    assert {(r["incident_id"], r["event_id"]) for r in reminded} == {
        (incident, openings[incident]) for incident in openings
        if incident != rows(INCIDENTS, INCIDENTS.c.monitor_id == unpaged)[0]["id"]}
    record(first, "up", 400)  # resolved: no more reminders for it
    with get_engine().begin() as connection:
        assert alerting.plan_reminders(connection, at(620)) == 1
    remind_every(0)
    with get_engine().begin() as connection:
        assert alerting.plan_reminders(connection, at(3600)) == 0


def test_a_maintenance_end_is_judged_by_this_monitors_own_last_entry() -> None:
    add_channel("ops")
    loud, late = add_monitor("Loud"), add_monitor("Late")
    window(True, monitor_id=loud)  # active from -600 s to 3600 s
    window(True, monitor_id=late)
    event(loud, "up", "maintenance", 0)
    event(late, "up", "maintenance", 3000)
    event(loud, "maintenance", "up", 4000)
    event(loud, "up", "maintenance", 5000)  # again, once the window is over: not for this end
    plan(5000)
    assert [(r.name, r.kind) for r in _heard()] == [
        ("Loud", "maintenance_start"), ("Late", "maintenance_start"), ("Loud", "maintenance_end")]


def test_only_an_earlier_notice_to_the_same_channel_holds_a_recovery_back() -> None:
    a, b = add_channel("a"), add_channel("b")
    remind_every(5)
    record(add_monitor("API"), "up", -60)
    record(1, "down", 0)
    plan(0)
    pages = {r["channel_id"]: r["id"] for r in rows(DELIVERIES)}
    for channel in (a, b):
        deliveries.claim(get_engine(), pages[channel], at(1))
    deliveries.finish(get_engine(), delivery(pages[a]), "a", at(2), error=None)
    deliveries.finish(get_engine(), delivery(pages[b]), "b", at(2), error="HTTP 500")
    deliveries.plan_timers(get_engine(), at(300))  # reminders, pending, due later
    with get_engine().begin() as connection:
        connection.execute(update(DELIVERIES).where(DELIVERIES.c.kind == "reminder")
                           .values(next_attempt_at=at(900)))
    record(1, "up", 310)
    plan(310)
    recoveries = {r["channel_id"]: r["id"] for r in rows(DELIVERIES, DELIVERIES.c.kind == "up")}
    # a: its page went out, and a pending reminder (which will be skipped) holds nothing back;
    # b: its page is still being retried, so its recovery waits
    due = deliveries.due_deliveries(get_engine(), at(320), limit=10)
    assert due == sorted(due) and recoveries[a] in due and recoveries[b] not in due
    assert pages[b] in due


def test_an_acknowledgement_is_sent_once_to_the_paged_channels_that_keep_incidents() -> None:
    pager = add_channel("pager", kind="pagerduty")
    add_channel("hook")
    idle = add_channel("idle-pager", kind="pagerduty", events=["up"])  # hears no page
    first, second = add_monitor("A"), add_monitor("B")
    for monitor in (first, second):
        record(monitor, "up", 0)
        record(monitor, "down", 10)
    plan(10)
    a_incident, b_incident = (i["id"] for i in rows(INCIDENTS))
    (opening,) = rows(CHANGES, CHANGES.c.incident_id == a_incident, CHANGES.c.to_state == "down")
    with get_engine().begin() as connection:
        assert alerting.acknowledge(connection, a_incident, "ana", at(20)) is True
        assert alerting.acknowledge(connection, a_incident, "bo", at(21)) is False
    told = rows(DELIVERIES, DELIVERIES.c.kind == "acknowledged")
    assert [(t["channel_id"], t["incident_id"], t["event_id"], t["status"]) for t in told] == [
        (pager, a_incident, opening["id"], "pending")]
    assert utc(told[0]["next_attempt_at"]) == at(20) and idle != pager
    assert b_incident not in {t["incident_id"] for t in told}
