"""Sending deliveries: the dispatcher's transactions, one function each.

The delivery protocol, after planning (storage/alerting.py, step 1):

2. `claim`: `UPDATE delivery SET status='sending', lease_until=...` on a due row (pending and
   due, or sending with an expired lease: its sender died). Committed before sending.
3. `finish`: delivered / retry later / failed, and one delivery_attempt row.

The one unavoidable window: the provider accepted a message and the process died before step 3
committed. The lease then expires and the message is sent again. The window is the time between
the provider's answer and one small commit (no other work sits between them), and PagerDuty's
dedup_key makes that channel idempotent anyway.

What an outcome means (backoff, giving up, marking the channel failing) and when an escalation or
reminder is dropped are decided in alerting/ (pure); these functions write the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Table, and_, func, insert, or_, select, update
from sqlalchemy.engine import Engine

from alerting.escalation import waits_on_incident, why_skipped
from alerting.retries import Outcome, outcome_of
from storage import alerting
from storage.alerting_admin import add_env_channels
from storage.alerting_models import AlertChannel, Delivery, DeliveryAttempt
from storage.models import Incident, Monitor, StateChange, as_utc
from storage.rule_models import RuleEvent
from storage.tables import table_of, utc

CHANGES = table_of(StateChange)
DELIVERIES = table_of(Delivery)
ATTEMPTS = table_of(DeliveryAttempt)
CHANNELS = table_of(AlertChannel)
MONITORS = table_of(Monitor)
RULE_EVENTS = table_of(RuleEvent)
INCIDENTS = table_of(Incident)
SETTINGS = alerting.SETTINGS

# How long a claimed delivery stays its sender's; the dispatcher renews it while sending.
LEASE = timedelta(seconds=6)


def ensure_env_channels(engine: Engine, kinds: Mapping[str, str]) -> None:
    """The environment's channels (name -> kind) have their rows before the first round."""
    with engine.begin() as connection:
        add_env_channels(connection, kinds)


def plan_new_events(engine: Engine, now: datetime) -> int:
    """Plan every unplanned event, each in its own transaction; how many deliveries were planned."""
    with engine.connect() as connection:
        events = alerting.unplanned_events(connection)
    planned = 0
    for event_id in events:
        with engine.begin() as connection:
            planned += alerting.plan_event(connection, event_id, now)
    return planned


def plan_timers(engine: Engine, now: datetime) -> int:
    """Due reminders, and the end of flapping; how many monitors settled (new events to plan)."""
    with engine.begin() as connection:
        alerting.plan_reminders(connection, now)
        return alerting.settle_flapping(connection, now)


def due_deliveries(engine: Engine, now: datetime, limit: int) -> list[int]:
    earlier, theirs, mine = DELIVERIES.alias("earlier"), CHANGES.alias("theirs"), CHANGES.alias()
    # One channel hears one monitor's notices in order: a recovery waits for its outage page.
    # (`mine` is joined in the outer query so the test below is correlated to each delivery's
    # own monitor; as a nested scalar subquery it was not.)
    blocked = select(earlier.c.id).join(theirs, theirs.c.id == earlier.c.event_id).where(
        earlier.c.channel_id == DELIVERIES.c.channel_id,
        theirs.c.monitor_id == mine.c.monitor_id,
        earlier.c.id < DELIVERIES.c.id,
        earlier.c.status.in_(("pending", "sending")),
        earlier.c.needs_open_incident.is_(False),
    ).exists()
    with engine.connect() as connection:
        return list(connection.execute(
            select(DELIVERIES.c.id).join(mine, mine.c.id == DELIVERIES.c.event_id)
            .where(_due(now), ~blocked).order_by(DELIVERIES.c.id).limit(limit)
        ).scalars())


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or sending with an expired lease (its sender died)."""
    return or_(and_(DELIVERIES.c.status == "pending", DELIVERIES.c.next_attempt_at <= now),
               and_(DELIVERIES.c.status == "sending", DELIVERIES.c.lease_until < now))


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery: dict
    interrupted: bool  # the previous sender died mid-send


def claim(engine: Engine, delivery_id: int, now: datetime) -> Claimed | None:
    """Take one due delivery for sending; None when another sender has it or it was dropped."""
    with engine.begin() as connection:
        claimed = _claim(connection, delivery_id, now)
        if claimed is None or _skip_if_settled(connection, claimed.delivery):
            return None
        return claimed


def _claim(connection: Connection, delivery_id: int, now: datetime) -> Claimed | None:
    before = connection.execute(
        select(DELIVERIES.c.status).where(DELIVERIES.c.id == delivery_id)
    ).scalar_one_or_none()
    claimed = connection.execute(
        update(DELIVERIES).where(DELIVERIES.c.id == delivery_id, _due(now)).values(
            status="sending", lease_until=now + LEASE, attempts=DELIVERIES.c.attempts + 1,
            first_attempt_at=func.coalesce(DELIVERIES.c.first_attempt_at, now),
        )
    )
    if claimed.rowcount != 1:
        return None
    row = dict(connection.execute(select(DELIVERIES).where(DELIVERIES.c.id == delivery_id))
               .mappings().one())
    if before == "sending":
        connection.execute(insert(ATTEMPTS).values(
            delivery_id=delivery_id, channel_name=_channel_name(connection, row["channel_id"]),
            at=now, outcome="interrupted",
            error="the process sending this stopped before recording the outcome; sending again",
        ))
    return Claimed(row, before == "sending")


def _channel_name(connection: Connection, channel_id: int) -> str:
    return connection.execute(
        select(CHANNELS.c.name).where(CHANNELS.c.id == channel_id)
    ).scalar_one()


def _skip_if_settled(connection: Connection, delivery: dict) -> bool:
    """Escalations and reminders are dropped once the incident is acknowledged or resolved."""
    if not waits_on_incident(delivery["needs_open_incident"], delivery["incident_id"]):
        return False
    incident = connection.execute(
        select(INCIDENTS.c.resolved_at, INCIDENTS.c.acknowledged_at)
        .where(INCIDENTS.c.id == delivery["incident_id"])
    ).first()
    reason = why_skipped(
        found=incident is not None,
        resolved=incident is not None and incident.resolved_at is not None,
        acknowledged=incident is not None and incident.acknowledged_at is not None,
    )
    if reason is None:
        return False
    connection.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery["id"]).values(
        status="skipped", lease_until=None, last_error=reason,
    ))
    return True


def renew_leases(engine: Engine, delivery_ids: list[int], now: datetime) -> None:
    if not delivery_ids:
        return
    with engine.begin() as connection:
        connection.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(delivery_ids),
                                     DELIVERIES.c.status == "sending")
            .values(lease_until=now + LEASE)
        )


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What a notice says about its event, read once before sending."""

    to_state: str
    reason: str | None
    at: datetime
    monitor_name: str | None  # None: the monitor was deleted
    monitor_slug: str | None
    incident_id: int | None  # None: no incident, or it was deleted
    incident_started_at: datetime | None
    incident_resolved_at: datetime | None
    monitor_runbook_url: str | None = None
    # An alert rule's event: the rule's own; else the incident's, else the monitor's; None:
    # none known.
    severity: str | None = None
    rule_key: str | None = None  # an alert rule's event: which rule (WindowRule.key)


def what_to_send(engine: Engine, delivery: dict) -> tuple[dict, NoticeFacts]:
    """The channel row (secrets included: only for sending) and the facts of the notice."""
    with engine.connect() as connection:
        channel = dict(connection.execute(
            select(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])).mappings().one())
        change = connection.execute(
            select(CHANGES).where(CHANGES.c.id == delivery["event_id"])).mappings().one()
        monitor = connection.execute(
            select(MONITORS.c.name, MONITORS.c.slug, MONITORS.c.runbook_url,
                   MONITORS.c.severity)
            .where(MONITORS.c.id == change["monitor_id"])
        ).first()
        incident = None
        if delivery["incident_id"] is not None:
            incident = connection.execute(
                select(INCIDENTS.c.id, INCIDENTS.c.started_at, INCIDENTS.c.resolved_at,
                       INCIDENTS.c.severity)
                .where(INCIDENTS.c.id == delivery["incident_id"])).first()
        rule = None
        if change["kind"] == "rule":
            rule = connection.execute(
                select(RULE_EVENTS.c.rule_key, RULE_EVENTS.c.severity)
                .where(RULE_EVENTS.c.change_id == change["id"])).first()
    return channel, NoticeFacts(
        change["to_state"], change["reason"], utc(change["at"]),
        monitor.name if monitor else None, monitor.slug if monitor else None,
        incident.id if incident else None,
        utc(incident.started_at) if incident else None,
        as_utc(incident.resolved_at) if incident else None,
        monitor.runbook_url if monitor else None,
        (rule.severity if rule else None) or (incident.severity if incident else None)
        or (monitor.severity if monitor else None),
        rule.rule_key if rule else None,
    )


def apply_outcome(
    connection: Connection, table: Table, delivery: dict, now: datetime,
    error: str | None, permanent: bool = False, retry_after: float | None = None,
) -> Outcome:
    """One attempt's outcome on a delivery row of `table` (the alert outbox's or the reports'):
    its status, next attempt and error, and whether its channel is failing or healthy again."""
    outcome = outcome_of(
        error, permanent=permanent, attempts=delivery["attempts"],
        first_attempt_at=as_utc(delivery["first_attempt_at"]), now=now, retry_after_s=retry_after,
    )
    values: dict[str, object] = {
        "status": outcome.status, "lease_until": None, "last_error": outcome.error}
    if outcome.status == "delivered":
        values["delivered_at"] = now
    if outcome.next_attempt_at is not None:
        values["next_attempt_at"] = outcome.next_attempt_at
    connection.execute(update(table).where(table.c.id == delivery["id"]).values(values))
    channel = update(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])
    if outcome.channel == "healthy":
        connection.execute(channel.values(failing_since=None, failing_error=None))
    elif outcome.channel == "failing":
        connection.execute(channel.values(failing_since=now, failing_error=outcome.error))
    return outcome


def finish(
    engine: Engine, delivery: dict, channel_name: str, now: datetime,
    error: str | None, permanent: bool = False, retry_after: float | None = None,
    duration_ms: float | None = None,
) -> str:
    """Record one attempt's outcome; returns the delivery's new status."""
    with engine.begin() as connection:
        outcome = apply_outcome(connection, DELIVERIES, delivery, now, error, permanent,
                                retry_after)
        connection.execute(insert(ATTEMPTS).values(
            delivery_id=delivery["id"], channel_name=channel_name, at=now,
            outcome=outcome.logged_as, error=outcome.error, duration_ms=duration_ms,
        ))
    return outcome.status
