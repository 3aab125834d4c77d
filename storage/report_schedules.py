"""Report schedules: list, add, change, remove, each change audited in its own transaction.

A schedule names its channels by id; only channels that can carry a report are accepted
(REPORT_CHANNEL_KINDS: e-mail, Slack, webhooks; an SMS is too short and PagerDuty pages
incidents, not summaries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.limits import InvalidInput
from domain.report_schedule import ScheduleSpec, parse_send_at
from storage.alerting_models import AlertChannel
from storage.audit import DASHBOARD_ADMIN, record
from storage.db import get_engine
from storage.models import as_utc, utcnow
from storage.report_models import ReportDelivery, ReportRun, ReportSchedule
from storage.tables import json_list, table_of, utc

SCHEDULES = table_of(ReportSchedule)
RUNS = table_of(ReportRun)
DELIVERIES = table_of(ReportDelivery)
CHANNELS = table_of(AlertChannel)
SUBJECT = "report schedule"
REPORT_CHANNEL_KINDS = ("email", "slack_webhook", "slack_bot", "webhook")


@dataclass(frozen=True, slots=True)
class ScheduleView:
    id: int
    spec: ScheduleSpec
    created_at: datetime
    updated_at: datetime


def _view(row: dict) -> ScheduleView:
    spec = ScheduleSpec(row["name"], row["period"], parse_send_at(row["send_at"]),
                        row["timezone"], tuple(int(i) for i in json_list(row["channel_ids"])),
                        float(row["target_percent"]), bool(row["enabled"]))
    return ScheduleView(row["id"], spec, utc(row["created_at"]),
                        as_utc(row["updated_at"]) or utc(row["created_at"]))


def _values(spec: ScheduleSpec) -> dict[str, object]:
    return {"name": spec.name, "period": spec.period, "send_at": spec.send_at.strftime("%H:%M"),
            "timezone": spec.timezone, "channel_ids": list(spec.channel_ids),
            "target_percent": spec.target_percent, "enabled": spec.enabled}


def list_schedules(enabled_only: bool = False) -> list[ScheduleView]:
    query = select(SCHEDULES).order_by(SCHEDULES.c.name)
    if enabled_only:
        query = query.where(SCHEDULES.c.enabled.is_(True))
    with get_engine().connect() as connection:
        return [_view(dict(row)) for row in connection.execute(query).mappings()]


def get_schedule(schedule_id: int) -> ScheduleView | None:
    with get_engine().connect() as connection:
        row = connection.execute(
            select(SCHEDULES).where(SCHEDULES.c.id == schedule_id)).mappings().first()
    return _view(dict(row)) if row else None


def channel_names() -> dict[int, tuple[str, str]]:
    """Every channel's id -> (name, kind), by name: what the schedule form offers."""
    with get_engine().connect() as connection:
        return {row.id: (row.name, row.kind) for row in connection.execute(
            select(CHANNELS.c.id, CHANNELS.c.name, CHANNELS.c.kind).order_by(CHANNELS.c.name))}


def _refuse_unusable_channels(connection: Connection, spec: ScheduleSpec) -> None:
    kinds = dict(connection.execute(
        select(CHANNELS.c.id, CHANNELS.c.kind).where(CHANNELS.c.id.in_(spec.channel_ids))).all())
    missing = [str(i) for i in spec.channel_ids if i not in kinds]
    if missing:
        raise InvalidInput({"channel_ids": f"no channel {', '.join(missing)}: choose another"})
    unusable = sorted({kinds[i] for i in spec.channel_ids if kinds[i] not in REPORT_CHANNEL_KINDS})
    if unusable:
        raise InvalidInput({"channel_ids": f"a report cannot go to {', '.join(unusable)} "
                            "channels: choose e-mail, Slack or webhook channels"})


def save_schedule(spec: ScheduleSpec, schedule_id: int | None = None, *,
                  actor: str = DASHBOARD_ADMIN) -> ScheduleView:
    """Add a schedule (no id) or change one; InvalidInput naming the field, nothing written."""
    now = utcnow()
    try:
        with get_engine().begin() as connection:
            _refuse_unusable_channels(connection, spec)
            values = _values(spec)
            if schedule_id is None:
                key = connection.execute(insert(SCHEDULES).values(
                    **values, created_at=now, updated_at=now)).inserted_primary_key
                assert key is not None
                schedule_id = int(key[0])
                record(connection, actor=actor, action="created", subject_kind=SUBJECT,
                       subject=spec.name, after=values)
            else:
                before = connection.execute(
                    select(SCHEDULES).where(SCHEDULES.c.id == schedule_id).with_for_update()
                ).mappings().first()
                if before is None:
                    raise InvalidInput({"id": f"no report schedule {schedule_id}"})
                connection.execute(update(SCHEDULES).where(SCHEDULES.c.id == schedule_id)
                                   .values(**values, updated_at=now))
                record(connection, actor=actor, action="updated", subject_kind=SUBJECT,
                       subject=spec.name, before=_values(_view(dict(before)).spec), after=values)
    except IntegrityError:
        raise InvalidInput({"name": f"a report schedule named {spec.name!r} exists: "
                            "choose another name"}) from None
    saved = get_schedule(int(schedule_id))
    assert saved is not None
    return saved


def delete_schedule(schedule_id: int, *, actor: str = DASHBOARD_ADMIN) -> bool:
    """Remove a schedule with its reports and their sends not yet made; False when none."""
    with get_engine().begin() as connection:
        before = connection.execute(
            select(SCHEDULES).where(SCHEDULES.c.id == schedule_id)).mappings().first()
        if before is None:
            return False
        connection.execute(delete(SCHEDULES).where(SCHEDULES.c.id == schedule_id))
        view = _view(dict(before))
        record(connection, actor=actor, action="deleted", subject_kind=SUBJECT,
               subject=view.spec.name, before=_values(view.spec))
    return True


@dataclass(frozen=True, slots=True)
class SentReport:
    """One send of a report, as the dashboard lists it."""

    schedule_id: int
    period_label: str
    requested_by: str
    created_at: datetime
    channel: str
    status: str
    last_error: str | None


def recent_sends(limit: int = 20) -> list[SentReport]:
    """The last sends of every schedule's reports, newest first."""
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(RUNS.c.schedule_id, RUNS.c.period_label, RUNS.c.requested_by,
                   RUNS.c.created_at, CHANNELS.c.name, DELIVERIES.c.status,
                   DELIVERIES.c.last_error)
            .select_from(DELIVERIES.join(RUNS, RUNS.c.id == DELIVERIES.c.run_id)
                         .join(CHANNELS, CHANNELS.c.id == DELIVERIES.c.channel_id))
            .order_by(DELIVERIES.c.id.desc()).limit(limit)
        ).all()
    return [SentReport(r.schedule_id, r.period_label, r.requested_by,
                       as_utc(r.created_at) or r.created_at, r.name, r.status, r.last_error)
            for r in rows]
