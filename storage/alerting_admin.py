"""What the alerting dashboard reads and writes: channels, routes, open incidents, deliveries.

Channel views never carry secret values, only which secrets are stored: a page cannot show what
it never received. Every write is one transaction, so a refused save changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from domain.escalation import EscalationSettings, parse_escalation
from domain.monitor_input import InvalidInput
from domain.notice_templates import template_errors, template_settings
from storage import alerting
from storage.alerting_models import (
    ALL_EVENTS,
    AlertChannel,
    AlertSettings,
    Delivery,
    DeliveryAttempt,
    MonitorRoute,
)
from storage.audit import DASHBOARD_ADMIN, record
from storage.channel_versions import version_in
from storage.db import get_engine
from storage.escalation_settings import stored_escalation, write_escalation
from storage.handles import Engine
from storage.models import Incident, Monitor, StateChange, as_utc
from storage.tables import table_of, utc

CHANNELS = table_of(AlertChannel)
ROUTES = table_of(MonitorRoute)
DELIVERIES = table_of(Delivery)
ATTEMPTS = table_of(DeliveryAttempt)
INCIDENTS = table_of(Incident)
SETTINGS = table_of(AlertSettings)
MONITORS = table_of(Monitor)
CHANGES = table_of(StateChange)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A validated channel from the dashboard form. Empty secrets mean "keep the stored one"."""

    name: str
    kind: str
    config: dict[str, Any]
    secrets: dict[str, str]
    events: list[str]
    enabled: bool = True
    escalate_after_minutes: int = 0
    quiet_start: str | None = None
    quiet_end: str | None = None
    quiet_timezone: str = "UTC"
    quiet_min_severity: str = "critical"

    def __repr__(self) -> str:  # secrets stay out of logs and tracebacks
        return f"ChannelSpec(name={self.name!r}, kind={self.kind!r}, secrets=<hidden>)"


@dataclass(frozen=True, slots=True)
class ChannelView:
    id: int
    name: str
    kind: str
    source: str  # "db", or "env" (settings come from the environment)
    config: dict[str, Any]
    stored_secrets: frozenset[str]  # names only
    events: list[str]
    enabled: bool
    escalate_after_minutes: int
    quiet_start: str | None
    quiet_end: str | None
    quiet_timezone: str
    quiet_min_severity: str
    failing_since: datetime | None
    failing_error: str | None
    # The last message delivered through this channel went out with the default text: why, when.
    template_note: str | None = None
    template_note_at: datetime | None = None

    def settings(self) -> dict[str, Any]:
        """What an audit entry compares: the settings, and which secrets are stored (the
        audit log masks their values; this view never has them)."""
        return {
            "name": self.name, "kind": self.kind, "config": self.config,
            "secrets": {name: "stored" for name in sorted(self.stored_secrets)},
            "events": self.events, "enabled": self.enabled,
            "escalate_after_minutes": self.escalate_after_minutes,
            "quiet_start": self.quiet_start, "quiet_end": self.quiet_end,
            "quiet_timezone": self.quiet_timezone, "quiet_min_severity": self.quiet_min_severity,
        }


def _view(row: Any, note: tuple[str, datetime] | None = None) -> ChannelView:
    return ChannelView(
        row["id"], row["name"], row["kind"], row["source"], dict(row["config"] or {}),
        frozenset(k for k, v in (row["secrets"] or {}).items() if v), list(row["events"] or []),
        bool(row["enabled"]), row["escalate_after_minutes"], row["quiet_start"], row["quiet_end"],
        row["quiet_timezone"], row["quiet_min_severity"], as_utc(row["failing_since"]),
        row["failing_error"], note[0] if note else None, note[1] if note else None,
    )


def list_channels() -> list[ChannelView]:
    with get_engine().connect() as connection:
        notes = _template_notes(connection)
        rows = connection.execute(select(CHANNELS).order_by(CHANNELS.c.name)).mappings()
        return [_view(row, notes.get(row["id"])) for row in rows]


def _template_notes(connection: Connection) -> dict[int, tuple[str, datetime]]:
    """channel id -> the note of its last delivered attempt, when that one carries one (a
    delivered attempt has an error only when its template was not used)."""
    last = (
        select(DELIVERIES.c.channel_id, func.max(ATTEMPTS.c.id).label("attempt_id"))
        .select_from(ATTEMPTS.join(DELIVERIES, DELIVERIES.c.id == ATTEMPTS.c.delivery_id))
        .where(ATTEMPTS.c.outcome == "delivered").group_by(DELIVERIES.c.channel_id).subquery()
    )
    rows = connection.execute(
        select(last.c.channel_id, ATTEMPTS.c.error, ATTEMPTS.c.at)
        .join(ATTEMPTS, ATTEMPTS.c.id == last.c.attempt_id).where(ATTEMPTS.c.error.is_not(None)))
    return {row.channel_id: (row.error, utc(row.at)) for row in rows}


def note_on_attempt(engine: Engine, delivery_id: int, note: str) -> None:
    """Write `note` on a delivery's delivered attempt: it went out, with the default text."""
    last = (select(func.max(ATTEMPTS.c.id)).where(ATTEMPTS.c.delivery_id == delivery_id)
            .scalar_subquery())
    with engine.begin() as connection:
        connection.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == last,
                                                  ATTEMPTS.c.outcome == "delivered")
                           .values(error=note[:2000]))


def channel_row(channel_id: int) -> dict | None:
    """The full row, secrets included: only for sending (the test button), never for display."""
    with get_engine().connect() as connection:
        row = connection.execute(select(CHANNELS).where(CHANNELS.c.id == channel_id))
        found = row.mappings().first()
        return dict(found) if found else None


def _channel(connection: Connection, channel_id: int) -> ChannelView | None:
    row = connection.execute(select(CHANNELS).where(CHANNELS.c.id == channel_id))
    found = row.mappings().first()
    return _view(found) if found else None


# Sees a stored channel's version (storage/channel_versions) inside the writing transaction,
# on the row it locked; raises to refuse the write (an If-Match check).
ChannelExpectation = Callable[[dict[str, Any]], None]


def _expect_channel(connection: Connection, channel_id: int,
                    expect: ChannelExpectation | None) -> None:
    if expect is None:
        return
    connection.execute(select(CHANNELS.c.id).where(CHANNELS.c.id == channel_id)
                       .with_for_update())
    version = version_in(connection, channel_id)
    if version is not None:
        expect(version)


def save_channel(spec: ChannelSpec, channel_id: int | None = None, *,
                 actor: str = DASHBOARD_ADMIN,
                 expect: ChannelExpectation | None = None) -> ChannelView:
    """Create or update a channel; InvalidInput when the name is taken, a template is wrong
    (checked here too, whoever saves) or the channel is gone. `expect` sees the stored
    channel first (an update's If-Match)."""
    if problems := template_errors(spec.kind, spec.config):
        raise InvalidInput(problems)
    routing = {
        "events": spec.events, "enabled": spec.enabled,
        "escalate_after_minutes": spec.escalate_after_minutes, "quiet_start": spec.quiet_start,
        "quiet_end": spec.quiet_end, "quiet_timezone": spec.quiet_timezone,
        "quiet_min_severity": spec.quiet_min_severity,
    }
    with get_engine().begin() as connection:
        if channel_id is not None:
            _expect_channel(connection, channel_id, expect)
        taken = connection.execute(select(CHANNELS.c.id).where(
            CHANNELS.c.name == spec.name, CHANNELS.c.id != (channel_id or -1))).first()
        if taken:
            raise InvalidInput({"name": f"a channel named {spec.name!r} already exists"})
        before = None if channel_id is None else _channel(connection, channel_id)
        if channel_id is None:
            new_secrets = {k: v for k, v in spec.secrets.items() if v}
            channel_id = connection.execute(insert(CHANNELS).values(
                name=spec.name, kind=spec.kind, source="db", config=spec.config,
                secrets=new_secrets, **routing,
            ).returning(CHANNELS.c.id)).scalar_one()
        else:
            stored = connection.execute(
                select(CHANNELS).where(CHANNELS.c.id == channel_id)).mappings().first()
            if stored is None:
                raise InvalidInput({"name": "this channel was deleted meanwhile"})
            values: dict[str, Any] = dict(routing)
            if stored["source"] == "env":  # its templates only: the connection is the settings'
                values["config"] = template_settings(spec.config)
            else:
                kept = {k: v for k, v in (stored["secrets"] or {}).items()
                        if stored["kind"] == spec.kind}
                values.update(
                    name=spec.name, kind=spec.kind, config=spec.config,
                    secrets={**kept, **{k: v for k, v in spec.secrets.items() if v}},
                    # New settings deserve a fresh start; the next send will tell.
                    failing_since=None, failing_error=None,
                )
            connection.execute(update(CHANNELS).where(CHANNELS.c.id == channel_id).values(values))
        saved = _channel(connection, channel_id)
        assert saved is not None
        record(connection, actor=actor, action="created" if before is None else "updated",
               subject_kind="channel", subject=saved.name,
               before=before.settings() if before else None, after=saved.settings())
        return saved


def delete_channel(channel_id: int, *, actor: str = DASHBOARD_ADMIN,
                   expect: ChannelExpectation | None = None) -> None:
    with get_engine().begin() as connection:
        _expect_channel(connection, channel_id, expect)
        before = _channel(connection, channel_id)
        if before is None:
            return
        connection.execute(delete(CHANNELS).where(CHANNELS.c.id == channel_id))
        record(connection, actor=actor, action="deleted", subject_kind="channel",
               subject=before.name, before=before.settings())


def clear_failing(channel_id: int) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(CHANNELS).where(CHANNELS.c.id == channel_id)
                           .values(failing_since=None, failing_error=None))


def add_env_channels(connection: Connection, kinds: Mapping[str, str]) -> None:
    """Give each environment channel (name -> kind) its row, once; its secrets stay out of it.

    An existing row is left alone: the dashboard may have edited its routing.
    """
    existing = set(connection.execute(select(CHANNELS.c.name)).scalars())
    for name, kind in kinds.items():
        if name not in existing:
            connection.execute(insert(CHANNELS).values(
                name=name, kind=kind, source="env", config={}, secrets={}, events=list(ALL_EVENTS),
            ))


# --- routes -----------------------------------------------------------------------------------


def monitor_routes() -> dict[int, list[int]]:
    """monitor id -> its channel ids (a monitor missing here pages every enabled channel)."""
    found: dict[int, list[int]] = {}
    with get_engine().connect() as connection:
        for row in connection.execute(select(ROUTES).order_by(ROUTES.c.channel_id)):
            found.setdefault(row.monitor_id, []).append(row.channel_id)
    return found


def _route_names(connection: Connection, monitor_id: int) -> list[str]:
    return list(connection.execute(
        select(CHANNELS.c.name).select_from(ROUTES.join(CHANNELS, CHANNELS.c.id ==
                                                        ROUTES.c.channel_id))
        .where(ROUTES.c.monitor_id == monitor_id).order_by(CHANNELS.c.name)).scalars())


def set_monitor_routes(monitor_id: int, channel_ids: list[int], *,
                       actor: str = DASHBOARD_ADMIN,
                       expect: Callable[[list[str]], None] | None = None) -> None:
    """Replace a monitor's channels; `expect` sees the names of its channels now, inside the
    writing transaction with the monitor's row locked, and raises to refuse (If-Match)."""
    with get_engine().begin() as connection:
        if expect is not None:
            connection.execute(select(MONITORS.c.id).where(MONITORS.c.id == monitor_id)
                               .with_for_update())
            expect(_route_names(connection, monitor_id))
        known = set(connection.execute(
            select(CHANNELS.c.id).where(CHANNELS.c.id.in_(channel_ids))).scalars())
        if known != set(channel_ids):
            raise InvalidInput({"channels": "a chosen channel was deleted meanwhile: reload"})
        before = _route_names(connection, monitor_id)
        slug = connection.execute(
            select(MONITORS.c.slug).where(MONITORS.c.id == monitor_id)).scalar()
        connection.execute(delete(ROUTES).where(ROUTES.c.monitor_id == monitor_id))
        if channel_ids:
            connection.execute(insert(ROUTES), [
                {"monitor_id": monitor_id, "channel_id": channel_id}
                for channel_id in sorted(known)])
        record(connection, actor=actor, action="updated", subject_kind="routing",
               subject=str(slug or monitor_id), before={"channels": before},
               after={"channels": _route_names(connection, monitor_id)})


# --- incidents and deliveries -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    monitor_name: str
    title: str
    cause: str | None
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def open_incidents() -> list[OpenIncident]:
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"))
        .select_from(INCIDENTS.outerjoin(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id))
        .where(INCIDENTS.c.resolved_at.is_(None)).order_by(INCIDENTS.c.started_at.desc())
    )
    with get_engine().connect() as connection:
        return [
            OpenIncident(row["id"], row["monitor_name"] or "(no monitor)", row["title"],
                         row["cause"], utc(row["started_at"]), as_utc(row["acknowledged_at"]),
                         row["acknowledged_by"])
            for row in connection.execute(query).mappings()
        ]


def acknowledge_incident(incident_id: int, who: str, now: datetime, *, actor: str) -> bool:
    """Acknowledge an open incident as `who`; recorded in the audit log as `actor`'s."""
    with get_engine().begin() as connection:
        done = alerting.acknowledge(connection, incident_id, who, now)
        if done:
            record_acknowledgement(connection, incident_id, who, actor)
        return done


def record_acknowledgement(connection: Connection, incident_id: int, who: str,
                           actor: str) -> None:
    title = connection.execute(
        select(INCIDENTS.c.title).where(INCIDENTS.c.id == incident_id)).scalar()
    record(connection, actor=actor, action="acknowledged", subject_kind="incident",
           subject=f"{incident_id} {title}", after={"acknowledged_by": who})


@dataclass(frozen=True, slots=True)
class AttemptView:
    at: datetime
    channel: str
    monitor: str
    notice: str
    outcome: str
    error: str | None


def recent_attempts(limit: int = 50) -> list[AttemptView]:
    query = (
        select(ATTEMPTS.c.at, ATTEMPTS.c.channel_name, ATTEMPTS.c.outcome, ATTEMPTS.c.error,
               DELIVERIES.c.kind, MONITORS.c.name)
        .select_from(ATTEMPTS.join(DELIVERIES, DELIVERIES.c.id == ATTEMPTS.c.delivery_id)
                     .join(CHANGES, CHANGES.c.id == DELIVERIES.c.event_id)
                     .outerjoin(MONITORS, MONITORS.c.id == CHANGES.c.monitor_id))
        .order_by(ATTEMPTS.c.id.desc()).limit(limit)
    )
    with get_engine().connect() as connection:
        return [
            AttemptView(utc(row.at), row.channel_name, row.name or "(deleted monitor)",
                        row.kind, row.outcome, row.error)
            for row in connection.execute(query)
        ]


def escalation_settings() -> EscalationSettings:
    with get_engine().begin() as connection:  # begin: the settings row is made on first read
        alerting.alert_settings(connection)
        return stored_escalation(connection)


def save_escalation_settings(
    changes: Mapping[str, Any], *, actor: str,
    expect: Callable[[EscalationSettings], None] | None = None,
) -> EscalationSettings:
    """Change reminders, flap detection, the steps per severity and the digest (validated as a
    whole, channel names included: InvalidInput changes nothing); the dispatcher uses them from
    its next round. `expect` sees the stored settings in the writing transaction first and
    raises to refuse (an If-Match check)."""
    with get_engine().begin() as connection:
        alerting.alert_settings(connection)  # the row to lock exists
        connection.execute(select(SETTINGS.c.id).where(SETTINGS.c.id == 1).with_for_update())
        before = stored_escalation(connection)
        if expect is not None:
            expect(before)
        after = parse_escalation(changes, before)
        write_escalation(connection, after)
        record(connection, actor=actor, action="updated", subject_kind="escalation",
               subject="reminders and flapping", before=before.to_api(), after=after.to_api())
    return after
