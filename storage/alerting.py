"""Planning deliveries: the statements behind step 1 of the delivery protocol, and the timers.

1. `plan_event`: claim a state_change with `UPDATE ... WHERE dispatched_at IS NULL` (exactly one
   row must change) and insert its delivery rows in the same transaction: a crash before the
   commit leaves the event unclaimed, after it every planned delivery exists.

Reminders and the end of flapping are planned the same way, from the dispatcher's housekeeping.
Each monitor's reminders and flap threshold are its own, else the global ones; the escalation
steps of its severity are planned with its outage, and a severity that goes to the hourly digest
is collected for it instead of paged (storage/escalation_plans.py, storage/digests.py).
What an event means and who hears it is decided in alerting/ (pure); this module reads the facts
those rules need and writes their answer. Sending the planned rows (steps 2 and 3: leases and
outcomes) is storage/deliveries.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from alerting import planning
from alerting.escalation import reminder_due
from alerting.flapping import FlapPolicy, FlapVerdict, flap_verdict, has_settled, window_start
from alerting.planning import Change, ChannelRule, PlannedDelivery
from alerting.routing import route_event
from storage import digests, escalation_plans, maintenance
from storage.alerting_models import AlertChannel, AlertSettings, Delivery, FlapState, MonitorRoute
from storage.models import Incident, Monitor, MonitorState, StateChange, as_utc
from storage.rule_models import RuleEvent
from storage.tables import table_of, utc

CHANGES = table_of(StateChange)
DELIVERIES = table_of(Delivery)
CHANNELS = table_of(AlertChannel)
ROUTES = table_of(MonitorRoute)
MONITORS = table_of(Monitor)
STATES = table_of(MonitorState)
INCIDENTS = table_of(Incident)
FLAPS = table_of(FlapState)
SETTINGS = table_of(AlertSettings)
RULE_EVENTS = table_of(RuleEvent)

# A delivery in one of these pages (or is paging) its channel, unless it is an escalation step
# that has not fired yet.
PAGED_STATUSES = ("delivered", "pending", "sending")


def alert_settings(connection: Connection) -> dict:
    row = connection.execute(select(SETTINGS).where(SETTINGS.c.id == 1)).mappings().first()
    if row is None:
        connection.execute(insert(SETTINGS).values(id=1))
        row = connection.execute(select(SETTINGS).where(SETTINGS.c.id == 1)).mappings().one()
    return dict(row)


def flap_policy(connection: Connection, monitor_id: int | None = None) -> FlapPolicy:
    """The monitor's own flap threshold, else the global one (also for no monitor)."""
    return escalation_plans.flap_policy_of(connection, monitor_id)


def unplanned_events(connection: Connection, limit: int = 200) -> list[int]:
    return list(connection.execute(
        select(CHANGES.c.id).where(CHANGES.c.dispatched_at.is_(None))
        .order_by(CHANGES.c.id).limit(limit)
    ).scalars())


def _change(row: RowMapping) -> Change:
    return Change(row["id"], row["monitor_id"], row["kind"], row["from_state"], row["to_state"],
                  utc(row["at"]), row["incident_id"])


_rule = escalation_plans.channel_rule


def _routed_channels(connection: Connection, monitor_id: int) -> list[ChannelRule]:
    enabled = [_rule(row) for row in connection.execute(
        select(CHANNELS).where(CHANNELS.c.enabled.is_(True)).order_by(CHANNELS.c.id)
    ).mappings()]
    routes = set(connection.execute(
        select(ROUTES.c.channel_id).where(ROUTES.c.monitor_id == monitor_id)
    ).scalars())
    return planning.routed_channels(enabled, routes)


def _channels(connection: Connection, channel_ids: Sequence[int]) -> list[ChannelRule]:
    """Channels by id, enabled or not (a paged channel hears the recovery either way)."""
    if not channel_ids:
        return []
    return [_rule(row) for row in connection.execute(
        select(CHANNELS).where(CHANNELS.c.id.in_(channel_ids)).order_by(CHANNELS.c.id)
    ).mappings()]


def _paged_channels(connection: Connection, incident_id: int) -> list[int]:
    """Channels that were (or are being) paged for an incident: they hear of its recovery."""
    return list(connection.execute(
        select(DELIVERIES.c.channel_id).distinct().where(
            DELIVERIES.c.incident_id == incident_id,
            DELIVERIES.c.kind.in_(planning.PAGING_KINDS),
            DELIVERIES.c.status.in_(PAGED_STATUSES),
            # an escalation that has not fired yet paged nobody
            or_(DELIVERIES.c.needs_open_incident.is_(False), DELIVERIES.c.attempts > 0),
        )
    ).scalars())


def _judge_flapping(connection: Connection, change: Change, now: datetime) -> FlapVerdict:
    """The flapping verdict on `change`; a monitor that starts flapping is remembered as such."""
    policy = flap_policy(connection, change.monitor_id)
    recent = connection.execute(
        select(func.count()).select_from(CHANGES).where(
            CHANGES.c.monitor_id == change.monitor_id, CHANGES.c.kind == "state",
            CHANGES.c.at >= window_start(change.at, policy), CHANGES.c.id <= change.id,
        )
    ).scalar_one()
    flapping = connection.execute(
        select(FLAPS.c.monitor_id).where(FLAPS.c.monitor_id == change.monitor_id)
    ).first() is not None
    verdict = flap_verdict(change.kind, recent, flapping, policy)
    if verdict == "flapping":
        connection.execute(insert(FLAPS).values(monitor_id=change.monitor_id, since=now))
    return verdict


def _window_asks_for_notices(connection: Connection, change: Change) -> bool:
    """Whether the maintenance window behind a maintenance start/end asked for notices."""
    entered = None
    if change.to_state != "maintenance":
        entered = as_utc(connection.execute(
            select(func.max(CHANGES.c.at)).where(
                CHANGES.c.monitor_id == change.monitor_id, CHANGES.c.kind == "state",
                CHANGES.c.to_state == "maintenance", CHANGES.c.id < change.id)
        ).scalar())
    judged_at = planning.maintenance_judged_at(change, entered)
    if judged_at is None:
        return False
    group = connection.execute(
        select(MONITORS.c.group_name).where(MONITORS.c.id == change.monitor_id)
    ).scalar()
    notifying = [w for w in maintenance.load_windows(connection) if w.notify]
    return bool(maintenance.monitors_covered(notifying, [(change.monitor_id, group)], judged_at))


def _insert_deliveries(
    connection: Connection, event_id: int, incident_id: int | None,
    planned: Sequence[PlannedDelivery], now: datetime, *, once: bool = False,
) -> int:
    """Write planned deliveries; `once` skips those already planned (the unique key)."""
    if not planned:
        return 0
    rows = [{
        "event_id": event_id, "channel_id": p.channel_id, "incident_id": incident_id,
        "kind": p.kind, "sequence": p.sequence, "needs_open_incident": p.needs_open_incident,
        "status": "pending", "created_at": now, "next_attempt_at": p.next_attempt_at,
        "attempts": 0,
    } for p in planned]
    if not once:
        connection.execute(insert(DELIVERIES), rows)
        return len(rows)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(DELIVERIES).values(rows).on_conflict_do_nothing()
    return connection.execute(statement).rowcount or 0


def plan_event(connection: Connection, event_id: int, now: datetime) -> int:
    """Claim one state_change and plan its deliveries; returns how many were planned."""
    claimed = connection.execute(
        update(CHANGES).where(CHANGES.c.id == event_id, CHANGES.c.dispatched_at.is_(None))
        .values(dispatched_at=now)
    )
    if claimed.rowcount != 1:
        return 0  # another dispatcher has it
    change = _change(connection.execute(select(CHANGES).where(CHANGES.c.id == event_id))
                     .mappings().one())
    if change.kind == "rule":
        return _plan_rule_event(connection, change, now)
    routed = route_event(change.kind, change.from_state, change.to_state)
    if routed is None:
        return 0
    if routed.event == "maintenance" and not _window_asks_for_notices(connection, change):
        return 0
    verdict: FlapVerdict = "normal"
    if planning.checks_flapping(routed):
        verdict = _judge_flapping(connection, change, now)
    kind = planning.notice_kind(routed, verdict)
    if kind is None:
        return 0
    severity = connection.execute(
        select(MONITORS.c.severity).where(MONITORS.c.id == change.monitor_id)
    ).scalar()
    channels = _routed_channels(connection, change.monitor_id)
    if escalation_plans.collects_digest(connection, severity):
        return digests.collect(connection, change, kind, routed.event, channels)
    paged: list[ChannelRule] = []
    recovered = planning.recovered_incident(kind, change)
    if recovered is not None:
        paged = _channels(connection, _paged_channels(connection, recovered))
    planned = planning.deliveries_for(routed, kind, change, severity, channels, paged, now)
    planned += escalation_plans.planned_steps(connection, kind, routed.event, change, severity,
                                              now)
    return _insert_deliveries(connection, event_id, change.incident_id, planned, now)


def _plan_rule_event(connection: Connection, change: Change, now: datetime) -> int:
    """An alert rule's event: routed, and silenced by quiet hours, by the rule's severity."""
    rule = connection.execute(
        select(RULE_EVENTS.c.firing, RULE_EVENTS.c.severity)
        .where(RULE_EVENTS.c.change_id == change.id)).first()
    if rule is None:
        return 0
    routed = planning.rule_routed(bool(rule.firing))
    channels = _routed_channels(connection, change.monitor_id)
    planned = planning.deliveries_for(routed, routed.notice_kind, change, rule.severity,
                                      channels, [], now)
    return _insert_deliveries(connection, change.id, None, planned, now)


def plan_reminders(connection: Connection, now: datetime) -> int:
    """Insert due reminders for open, unacknowledged incidents (once each: a unique key), at
    each monitor's own interval, else the global one."""
    open_incidents = connection.execute(
        select(INCIDENTS.c.id, INCIDENTS.c.started_at, INCIDENTS.c.monitor_id).where(
            INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.acknowledged_at.is_(None),
            INCIDENTS.c.monitor_id.is_not(None))
    ).all()
    planned = 0
    for incident in open_incidents:
        every = escalation_plans.reminder_minutes_of(connection, incident.monitor_id)
        sequence = reminder_due(utc(incident.started_at), every, now)
        if sequence == 0:
            continue
        opening = connection.execute(
            select(CHANGES.c.id).where(CHANGES.c.incident_id == incident.id,
                                       CHANGES.c.to_state == "down")
        ).scalar()
        channels = _paged_channels(connection, incident.id)
        if opening is None or not channels:
            continue
        reminders = planning.reminder_deliveries(sequence, channels, now)
        planned += _insert_deliveries(connection, opening, incident.id, reminders, now, once=True)
    return planned


def settle_flapping(connection: Connection, now: datetime) -> int:
    """End flapping for monitors quiet for a whole window (their own, else the global one);
    each gets one 'settled' event."""
    settled = 0
    for flap in connection.execute(select(FLAPS)).mappings().all():
        policy = flap_policy(connection, flap["monitor_id"])
        last = connection.execute(
            select(func.max(CHANGES.c.at)).where(CHANGES.c.monitor_id == flap["monitor_id"],
                                                 CHANGES.c.kind == "state")
        ).scalar()
        if not has_settled(as_utc(last), now, policy):
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
    """Record who acknowledged; False when it was already acknowledged (the first one counts).
    The paged channels that keep incidents of their own (PagerDuty) are told, through the
    outbox like every notice."""
    done = connection.execute(
        update(INCIDENTS).where(INCIDENTS.c.id == incident_id,
                                INCIDENTS.c.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=who[:100])
    )
    if done.rowcount != 1:
        return False
    opening = connection.execute(
        select(CHANGES.c.id).where(CHANGES.c.incident_id == incident_id,
                                   CHANGES.c.to_state == "down")).scalar()
    told = list(connection.execute(select(CHANNELS.c.id).where(
        CHANNELS.c.id.in_(_paged_channels(connection, incident_id)),
        CHANNELS.c.kind.in_(planning.ACKNOWLEDGING_CHANNEL_KINDS))).scalars())
    if opening is not None and told:
        _insert_deliveries(connection, opening, incident_id, [
            planning.PlannedDelivery(channel_id, "acknowledged", now) for channel_id in told],
            now, once=True)
    return True
