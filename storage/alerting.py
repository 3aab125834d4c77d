"""The delivery protocol's database steps. Each function is one short transaction.

1. `plan_event`: claim a state_change with `UPDATE ... WHERE dispatched_at IS NULL` (exactly one
   row must change) and insert its delivery rows in the same transaction: a crash before the
   commit leaves the event unclaimed, after it every planned delivery exists.
2. `claim_delivery`: `UPDATE delivery SET status='sending', lease_until=...` on a due row
   (pending and due, or sending with an expired lease: its sender died). Committed before sending.
3. `finish_delivery`: delivered / retry later / failed, and one delivery_attempt row.

The one unavoidable window: the provider accepted a message and the process died before step 3
committed. The lease then expires and the message is sent again. The window is the time between
the provider's answer and one small commit (no other work sits between them), and PagerDuty's
dedup_key makes that channel idempotent anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from alerting.escalation import page_at, reminder_due
from alerting.routing import QuietHours, route_event
from storage import maintenance
from storage.alerting_models import (
    AlertChannel,
    AlertSettings,
    Delivery,
    DeliveryAttempt,
    FlapState,
    MonitorRoute,
)
from storage.models import Incident, Monitor, MonitorState, StateChange, as_utc

CHANGES = StateChange.__table__
DELIVERIES = Delivery.__table__
ATTEMPTS = DeliveryAttempt.__table__
CHANNELS = AlertChannel.__table__
ROUTES = MonitorRoute.__table__
MONITORS = Monitor.__table__
STATES = MonitorState.__table__
INCIDENTS = Incident.__table__
FLAPS = FlapState.__table__
SETTINGS = AlertSettings.__table__

LEASE = timedelta(seconds=6)
RETRY_FOR = timedelta(hours=1)
PAGING_KINDS = ("down", "flapping", "reminder")


def alert_settings(connection: Connection) -> dict:
    row = connection.execute(select(SETTINGS).where(SETTINGS.c.id == 1)).mappings().first()
    if row is None:
        connection.execute(insert(SETTINGS).values(id=1))
        row = connection.execute(select(SETTINGS).where(SETTINGS.c.id == 1)).mappings().one()
    return dict(row)


def unplanned_events(connection: Connection, limit: int = 200) -> list[int]:
    return list(connection.execute(
        select(CHANGES.c.id).where(CHANGES.c.dispatched_at.is_(None))
        .order_by(CHANGES.c.id).limit(limit)
    ).scalars())


def _routed_channels(connection: Connection, monitor_id: int) -> list[dict]:
    channels = [dict(row) for row in connection.execute(
        select(CHANNELS).where(CHANNELS.c.enabled.is_(True)).order_by(CHANNELS.c.id)
    ).mappings()]
    routes = set(connection.execute(
        select(ROUTES.c.channel_id).where(ROUTES.c.monitor_id == monitor_id)
    ).scalars())
    return [c for c in channels if not routes or c["id"] in routes]


def _paged_channels(connection: Connection, incident_id: int) -> list[int]:
    """Channels that were (or are being) paged for an incident: they hear of its recovery."""
    return list(connection.execute(
        select(DELIVERIES.c.channel_id).distinct().where(
            DELIVERIES.c.incident_id == incident_id, DELIVERIES.c.kind.in_(PAGING_KINDS),
            DELIVERIES.c.status.in_(("delivered", "pending", "sending")),
            # an escalation that has not fired yet paged nobody
            or_(DELIVERIES.c.needs_open_incident.is_(False), DELIVERIES.c.attempts > 0),
        )
    ).scalars())


def _flapping_verdict(
    connection: Connection, change: dict, settings: dict, now: datetime
) -> str:
    """'normal', 'flapping' (say so once) or 'quiet' (already said) for a state transition."""
    if change["kind"] != "state":
        return "normal"
    since = as_utc(change["at"]) - timedelta(minutes=settings["flap_window_minutes"])
    recent = connection.execute(
        select(func.count()).select_from(CHANGES).where(
            CHANGES.c.monitor_id == change["monitor_id"], CHANGES.c.kind == "state",
            CHANGES.c.at >= since, CHANGES.c.id <= change["id"],
        )
    ).scalar_one()
    flapping = connection.execute(
        select(FLAPS.c.monitor_id).where(FLAPS.c.monitor_id == change["monitor_id"])
    ).first() is not None
    if flapping:
        return "quiet"
    if recent > settings["flap_changes"]:
        connection.execute(insert(FLAPS).values(monitor_id=change["monitor_id"], since=now))
        return "flapping"
    return "normal"


def _window_asks_for_notices(connection: Connection, change: dict) -> bool:
    """Whether the maintenance window behind a maintenance start/end asked for notices.

    A start is judged by the windows active when it began; an end by those active when the
    monitor entered maintenance (at the end, its window is no longer active).
    """
    began = as_utc(change["at"])
    if change["to_state"] != "maintenance":
        entered = connection.execute(
            select(func.max(CHANGES.c.at)).where(
                CHANGES.c.monitor_id == change["monitor_id"], CHANGES.c.kind == "state",
                CHANGES.c.to_state == "maintenance", CHANGES.c.id < change["id"])
        ).scalar()
        if entered is None:
            return False
        began = as_utc(entered)
    group = connection.execute(
        select(MONITORS.c.group_name).where(MONITORS.c.id == change["monitor_id"])
    ).scalar()
    notifying = [w for w in maintenance.load_windows(connection) if w.notify]
    covered = maintenance.monitors_covered(notifying, [(change["monitor_id"], group)], began)
    return bool(covered)


def plan_event(connection: Connection, event_id: int, now: datetime) -> int:
    """Claim one state_change and plan its deliveries; returns how many were planned."""
    claimed = connection.execute(
        update(CHANGES).where(CHANGES.c.id == event_id, CHANGES.c.dispatched_at.is_(None))
        .values(dispatched_at=now)
    )
    if claimed.rowcount != 1:
        return 0  # another dispatcher has it
    change = dict(connection.execute(select(CHANGES).where(CHANGES.c.id == event_id))
                  .mappings().one())
    routed = route_event(change["kind"], change["from_state"], change["to_state"])
    if routed is None:
        return 0
    notice_kind = routed.notice_kind
    if routed.event == "maintenance" and not _window_asks_for_notices(connection, change):
        return 0
    if routed.event in ("down", "up", "degraded"):
        verdict = _flapping_verdict(connection, change, alert_settings(connection), now)
        if verdict == "quiet":
            return 0
        if verdict == "flapping":
            notice_kind = "flapping"
    monitor = connection.execute(
        select(MONITORS.c.severity).where(MONITORS.c.id == change["monitor_id"])
    ).first()
    severity = monitor.severity if monitor else "high"
    at = as_utc(change["at"])
    incident_id = change["incident_id"]
    channels = _routed_channels(connection, change["monitor_id"])
    if notice_kind == "up" and incident_id is not None and change["kind"] == "state":
        paged = set(_paged_channels(connection, incident_id))
        targets = [c for c in channels if c["id"] in paged]
        # A channel paged earlier but since removed from the routes still hears the recovery.
        targets += [dict(r) for r in connection.execute(
            select(CHANNELS).where(CHANNELS.c.id.in_(paged - {c["id"] for c in targets}))
        ).mappings()]
    else:
        targets = [
            c for c in channels
            if routed.event in (c["events"] or [])
            and not QuietHours(c["quiet_start"], c["quiet_end"], c["quiet_timezone"],
                               c["quiet_min_severity"]).silences(severity, at)
        ]
    rows = []
    for channel in targets:
        escalates = notice_kind in ("down", "flapping") and channel["escalate_after_minutes"] > 0
        due = page_at(at, channel["escalate_after_minutes"]) if escalates else now
        rows.append({
            "event_id": event_id, "channel_id": channel["id"], "incident_id": incident_id,
            "kind": notice_kind, "sequence": 0, "needs_open_incident": escalates,
            "status": "pending", "created_at": now, "next_attempt_at": max(due, now),
            "attempts": 0,
        })
    if rows:
        connection.execute(insert(DELIVERIES), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery: dict
    interrupted: bool  # the previous sender died mid-send


def due_deliveries(connection: Connection, now: datetime, limit: int) -> list[int]:
    earlier, theirs, mine = DELIVERIES.alias("earlier"), CHANGES.alias("theirs"), CHANGES.alias()
    this_monitor = select(mine.c.monitor_id).where(mine.c.id == DELIVERIES.c.event_id)
    # One channel hears one monitor's notices in order: a recovery waits for its outage page.
    blocked = select(earlier.c.id).join(theirs, theirs.c.id == earlier.c.event_id).where(
        earlier.c.channel_id == DELIVERIES.c.channel_id,
        theirs.c.monitor_id == this_monitor.scalar_subquery(),
        earlier.c.id < DELIVERIES.c.id,
        earlier.c.status.in_(("pending", "sending")),
        earlier.c.needs_open_incident.is_(False),
    ).exists()
    return list(connection.execute(
        select(DELIVERIES.c.id).where(
            or_(and_(DELIVERIES.c.status == "pending", DELIVERIES.c.next_attempt_at <= now),
                and_(DELIVERIES.c.status == "sending", DELIVERIES.c.lease_until < now)),
            ~blocked,
        ).order_by(DELIVERIES.c.id).limit(limit)
    ).scalars())


def claim_delivery(connection: Connection, delivery_id: int, now: datetime) -> Claimed | None:
    before = connection.execute(
        select(DELIVERIES.c.status).where(DELIVERIES.c.id == delivery_id)
    ).scalar_one_or_none()
    claimed = connection.execute(
        update(DELIVERIES).where(
            DELIVERIES.c.id == delivery_id,
            or_(and_(DELIVERIES.c.status == "pending", DELIVERIES.c.next_attempt_at <= now),
                and_(DELIVERIES.c.status == "sending", DELIVERIES.c.lease_until < now)),
        ).values(
            status="sending", lease_until=now + LEASE, attempts=DELIVERIES.c.attempts + 1,
            first_attempt_at=func.coalesce(DELIVERIES.c.first_attempt_at, now),
        )
    )
    if claimed.rowcount != 1:
        return None
    row = dict(connection.execute(select(DELIVERIES).where(DELIVERIES.c.id == delivery_id))
               .mappings().one())
    channel_name = connection.execute(
        select(CHANNELS.c.name).where(CHANNELS.c.id == row["channel_id"])
    ).scalar_one()
    if before == "sending":
        connection.execute(insert(ATTEMPTS).values(
            delivery_id=delivery_id, channel_name=channel_name, at=now, outcome="interrupted",
            error="the process sending this stopped before recording the outcome; sending again",
        ))
    return Claimed(row, before == "sending")


def skip_if_settled(connection: Connection, delivery: dict, now: datetime) -> bool:
    """Escalations and reminders are dropped once the incident is acknowledged or resolved."""
    if not delivery["needs_open_incident"] or delivery["incident_id"] is None:
        return False
    incident = connection.execute(
        select(INCIDENTS.c.resolved_at, INCIDENTS.c.acknowledged_at)
        .where(INCIDENTS.c.id == delivery["incident_id"])
    ).first()
    if incident is not None and incident.resolved_at is None and incident.acknowledged_at is None:
        return False
    why = "resolved" if incident is None or incident.resolved_at else "acknowledged"
    connection.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery["id"]).values(
        status="skipped", lease_until=None, last_error=f"incident {why} before this step",
    ))
    return True


def renew_leases(connection: Connection, delivery_ids: list[int], now: datetime) -> None:
    if delivery_ids:
        connection.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(delivery_ids),
                                     DELIVERIES.c.status == "sending")
            .values(lease_until=now + LEASE)
        )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(0.5 * 2 ** max(attempts - 1, 0), 300))


def finish_delivery(
    connection: Connection, delivery: dict, channel_name: str, now: datetime,
    error: str | None, permanent: bool = False, retry_after: float | None = None,
    duration_ms: float | None = None,
) -> str:
    """Record one attempt's outcome; returns the delivery's new status."""
    where = DELIVERIES.c.id == delivery["id"]
    if error is None:
        status, outcome = "delivered", "delivered"
        connection.execute(update(DELIVERIES).where(where).values(
            status=status, delivered_at=now, lease_until=None, last_error=None))
        connection.execute(update(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])
                           .values(failing_since=None, failing_error=None))
    elif permanent:
        status, outcome = "failed", "permanent"
        connection.execute(update(DELIVERIES).where(where).values(
            status=status, lease_until=None, last_error=error))
        connection.execute(update(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])
                           .values(failing_since=now, failing_error=error))
    else:
        wait = max(backoff(delivery["attempts"]), timedelta(seconds=retry_after or 0))
        first = as_utc(delivery["first_attempt_at"]) or now
        if now + wait - first > RETRY_FOR:
            status, outcome = "failed", "gave_up"
            error = f"{error} (gave up after retrying for an hour)"
            connection.execute(update(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])
                               .values(failing_since=now, failing_error=error))
        else:
            status, outcome = "pending", "retry"
        connection.execute(update(DELIVERIES).where(where).values(
            status=status, next_attempt_at=now + wait, lease_until=None, last_error=error))
    connection.execute(insert(ATTEMPTS).values(
        delivery_id=delivery["id"], channel_name=channel_name, at=now, outcome=outcome,
        error=error, duration_ms=duration_ms,
    ))
    return status


def plan_reminders(connection: Connection, now: datetime) -> int:
    """Insert due reminders for open, unacknowledged incidents (once each: a unique key)."""
    every = alert_settings(connection)["remind_every_minutes"]
    if every <= 0:
        return 0
    open_incidents = connection.execute(
        select(INCIDENTS.c.id, INCIDENTS.c.started_at).where(
            INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.acknowledged_at.is_(None),
            INCIDENTS.c.monitor_id.is_not(None))
    ).all()
    planned = 0
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    for incident in open_incidents:
        sequence = reminder_due(as_utc(incident.started_at), every, now)
        if sequence == 0:
            continue
        opening = connection.execute(
            select(CHANGES.c.id).where(CHANGES.c.incident_id == incident.id,
                                       CHANGES.c.to_state == "down")
        ).scalar()
        channels = _paged_channels(connection, incident.id)
        if opening is None or not channels:
            continue
        statement = dialect.insert(DELIVERIES).values([{
            "event_id": opening, "channel_id": channel_id, "incident_id": incident.id,
            "kind": "reminder", "sequence": sequence, "needs_open_incident": True,
            "status": "pending", "created_at": now, "next_attempt_at": now, "attempts": 0,
        } for channel_id in channels]).on_conflict_do_nothing()
        planned += connection.execute(statement).rowcount or 0
    return planned


def settle_flapping(connection: Connection, now: datetime) -> int:
    """End flapping for monitors quiet for a whole window; each gets one 'settled' event."""
    window = timedelta(minutes=alert_settings(connection)["flap_window_minutes"])
    settled = 0
    for flap in connection.execute(select(FLAPS)).mappings().all():
        last = connection.execute(
            select(func.max(CHANGES.c.at)).where(CHANGES.c.monitor_id == flap["monitor_id"],
                                                 CHANGES.c.kind == "state")
        ).scalar()
        if last is not None and now - as_utc(last) < window:
            continue
        gone = connection.execute(delete(FLAPS).where(FLAPS.c.monitor_id == flap["monitor_id"]))
        if gone.rowcount != 1:
            continue
        state = connection.execute(
            select(STATES.c.state, STATES.c.reason).where(STATES.c.monitor_id == flap["monitor_id"])
        ).first()
        if state is None:
            continue
        open_incident = connection.execute(
            select(INCIDENTS.c.id).where(INCIDENTS.c.monitor_id == flap["monitor_id"],
                                         INCIDENTS.c.resolved_at.is_(None))
        ).scalar()
        connection.execute(insert(CHANGES).values(
            monitor_id=flap["monitor_id"], at=now, from_state="flapping", to_state=state.state,
            reason=state.reason, kind="settled", incident_id=open_incident,
        ))
        settled += 1
    return settled


def acknowledge(connection: Connection, incident_id: int, who: str, now: datetime) -> bool:
    """Record who acknowledged; False when it was already acknowledged (the first one counts)."""
    done = connection.execute(
        update(INCIDENTS).where(INCIDENTS.c.id == incident_id,
                                INCIDENTS.c.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=who[:100])
    )
    return done.rowcount == 1
