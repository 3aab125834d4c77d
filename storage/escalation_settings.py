"""The escalation settings as stored: the settings row, the steps per severity, and what one
monitor works by (its own reminder and flap values, else the global ones).

Steps keep their channels by id (storage/escalation_models.py); the settings show and take them
by name, so these functions translate, and refuse a name no channel has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection, delete, insert, select, update

from domain.escalation import EscalationSettings, effective_escalation
from domain.escalation_steps import EscalationStep, no_steps
from domain.limits import InvalidInput
from storage.alerting_models import AlertChannel, AlertSettings
from storage.escalation_models import EscalationStepChannel
from storage.models import Monitor
from storage.tables import json_list, table_of

SETTINGS = table_of(AlertSettings)
STEPS = table_of(EscalationStepChannel)
CHANNELS = table_of(AlertChannel)
MONITORS = table_of(Monitor)


def stored_escalation(connection: Connection) -> EscalationSettings:
    """The global settings, steps included (defaults while the settings row is not made)."""
    row = connection.execute(select(SETTINGS).where(SETTINGS.c.id == 1)).mappings().first()
    settings = EscalationSettings() if row is None else EscalationSettings(
        row["remind_every_minutes"], row["flap_changes"], row["flap_window_minutes"],
        digest=tuple(json_list(row["digest_severities"])))
    return replace(settings, steps=_named_steps(connection))


def _named_steps(connection: Connection) -> dict[str, tuple[EscalationStep, ...]]:
    grouped: dict[tuple[str, int], list[str]] = {}
    for severity, minutes, name in connection.execute(
            select(STEPS.c.severity, STEPS.c.after_minutes, CHANNELS.c.name)
            .join(CHANNELS, CHANNELS.c.id == STEPS.c.channel_id)
            .order_by(STEPS.c.severity, STEPS.c.after_minutes, CHANNELS.c.name)):
        grouped.setdefault((severity, minutes), []).append(name)
    steps = no_steps()
    for (severity, minutes), names in grouped.items():
        if severity in steps:
            steps[severity] += (EscalationStep(minutes, tuple(names)),)
    return steps


def write_escalation(connection: Connection, settings: EscalationSettings) -> None:
    """Store `settings` (validated already); InvalidInput when a step names no channel."""
    ids = {name: channel_id for name, channel_id in
           connection.execute(select(CHANNELS.c.name, CHANNELS.c.id))}
    errors = {f"steps.{severity}[{index}].channels": f"no channel is named {name!r}"
              for severity, steps in settings.steps.items()
              for index, step in enumerate(steps) for name in step.channels if name not in ids}
    if errors:
        raise InvalidInput(errors)
    if connection.execute(select(SETTINGS.c.id).where(SETTINGS.c.id == 1)).first() is None:
        connection.execute(insert(SETTINGS).values(id=1))
    connection.execute(update(SETTINGS).where(SETTINGS.c.id == 1).values(
        remind_every_minutes=settings.remind_every_minutes, flap_changes=settings.flap_changes,
        flap_window_minutes=settings.flap_window_minutes,
        digest_severities=list(settings.digest)))
    connection.execute(delete(STEPS))
    rows = [{"severity": severity, "after_minutes": step.after_minutes, "channel_id": ids[name]}
            for severity, steps in settings.steps.items() for step in steps
            for name in step.channels]
    if rows:
        connection.execute(insert(STEPS), rows)


def monitor_escalation(connection: Connection, monitor_id: int | None) -> EscalationSettings:
    """The reminder and flap settings one monitor works by (the global ones for no monitor,
    or one that is gone)."""
    own = None if monitor_id is None else connection.execute(
        select(MONITORS.c.remind_every_minutes, MONITORS.c.flap_changes,
               MONITORS.c.flap_window_minutes).where(MONITORS.c.id == monitor_id)
    ).mappings().first()
    return effective_escalation(_global_numbers(connection), dict(own) if own else {})


def _global_numbers(connection: Connection) -> EscalationSettings:
    row = connection.execute(
        select(SETTINGS.c.remind_every_minutes, SETTINGS.c.flap_changes,
               SETTINGS.c.flap_window_minutes).where(SETTINGS.c.id == 1)).first()
    return EscalationSettings() if row is None else EscalationSettings(*row)


def digest_severities(connection: Connection) -> tuple[str, ...]:
    value = connection.execute(
        select(SETTINGS.c.digest_severities).where(SETTINGS.c.id == 1)).scalar()
    return tuple(json_list(value))


def step_channels(connection: Connection, severity: str) -> list[tuple[int, Sequence[int]]]:
    """(after minutes, channel ids) of each step of `severity`, earliest first."""
    steps: dict[int, list[int]] = {}
    for minutes, channel_id in connection.execute(
            select(STEPS.c.after_minutes, STEPS.c.channel_id)
            .where(STEPS.c.severity == severity)
            .order_by(STEPS.c.after_minutes, STEPS.c.channel_id)):
        steps.setdefault(minutes, []).append(channel_id)
    return sorted(steps.items())
