"""Planning what escalation adds to an event: the steps of its monitor's severity, and whether
its changes go to the hourly digest instead. Called inside the event's planning transaction
(storage/alerting.plan_event); the rules are alerting/escalation_steps.py and alerting/digest.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, select

from alerting.escalation_steps import Step, step_deliveries
from alerting.flapping import FlapPolicy
from alerting.planning import Change, ChannelRule, PlannedDelivery
from alerting.routing import QuietHours
from domain.escalation_steps import goes_to_digest
from domain.severity import DEFAULT_SEVERITY
from storage.alerting_models import AlertChannel
from storage.escalation_settings import digest_severities, monitor_escalation, step_channels
from storage.tables import table_of

CHANNELS = table_of(AlertChannel)


def channel_rule(row: RowMapping) -> ChannelRule:
    """What decides whether a channel hears an event, from its row."""
    return ChannelRule(
        row["id"], tuple(row["events"] or ()), row["escalate_after_minutes"],
        QuietHours(row["quiet_start"], row["quiet_end"], row["quiet_timezone"],
                   row["quiet_min_severity"]),
    )


def planned_steps(connection: Connection, kind: str, event: str, change: Change,
                  severity: str | None, now: datetime) -> list[PlannedDelivery]:
    """The escalation steps of the monitor's severity for this notice (none unless it pages);
    a disabled channel is left out of its steps, as it is of routing."""
    steps = step_channels(connection, severity or DEFAULT_SEVERITY)
    if not steps:
        return []
    wanted = {channel_id for _, ids in steps for channel_id in ids}
    rules = {row["id"]: channel_rule(row) for row in connection.execute(
        select(CHANNELS).where(CHANNELS.c.id.in_(wanted), CHANNELS.c.enabled.is_(True))
    ).mappings()}
    return step_deliveries(
        kind, event, severity,
        change.at, [Step(minutes, [rules[i] for i in ids if i in rules]) for minutes, ids in steps],
        now)


def collects_digest(connection: Connection, severity: str | None) -> bool:
    """Whether a monitor of `severity` has its changes listed hourly instead of paged."""
    return goes_to_digest(severity or DEFAULT_SEVERITY, digest_severities(connection))


def flap_policy_of(connection: Connection, monitor_id: int | None) -> FlapPolicy:
    """When this monitor counts as flapping: its own threshold, else the global one."""
    settings = monitor_escalation(connection, monitor_id)
    return FlapPolicy(settings.flap_changes, settings.flap_window_minutes)


def reminder_minutes_of(connection: Connection, monitor_id: int | None) -> int:
    """How often this monitor's open incidents are reminded of (0: never)."""
    return monitor_escalation(connection, monitor_id).remind_every_minutes
