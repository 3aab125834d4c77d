"""Queueing and sending scheduled reports: one transaction per step, as the alert outbox's.

1. `claim_period`: the report's run row (unique per schedule and period key) and one delivery
   row per channel, in one transaction. Two processes that both find a period due race on the
   key: one commits, the other's insert fails and it queues nothing.
2. `claim_delivery`: `UPDATE ... SET status='sending', lease_until=...` on a due row (pending and
   due, or sending with an expired lease: its sender died), committed before sending.
3. `finish_delivery`: delivered / retry later / failed, the meaning of an outcome (backoff,
   giving up, marking the channel failing) being alerting.retries.outcome_of's, the alert
   deliveries' rule.

The crash window is the alert outbox's (storage/deliveries.py): a provider accepted the report
and the process died before step 3 committed; the lease expires and the report is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from domain.report_schedule import ReportPeriod
from storage.alerting_models import AlertChannel
from storage.audit import record
from storage.deliveries import apply_outcome
from storage.report_content import ReportContent
from storage.report_models import ReportDelivery, ReportRun, ReportSchedule
from storage.report_schedules import SUBJECT
from storage.tables import table_of

RUNS = table_of(ReportRun)
REPORT_DELIVERIES = table_of(ReportDelivery)
SCHEDULES = table_of(ReportSchedule)
CHANNELS = table_of(AlertChannel)

# Longer than one send can take (a channel's timeout is 10 s): the sender sends one at a time.
LEASE = timedelta(minutes=2)


def is_claimed(engine: Engine, schedule_id: int, period: ReportPeriod) -> bool:
    """Whether the period's report was queued already (read before making it: a report is
    read from every monitor's rollups, worth skipping when another process sent it)."""
    with engine.connect() as connection:
        return connection.execute(
            select(RUNS.c.id).where(RUNS.c.schedule_id == schedule_id,
                                    RUNS.c.claim_key == period.key)
        ).first() is not None


def _queue(engine: Engine, schedule_id: int, claim_key: str | None, period: ReportPeriod,
           content: ReportContent, channel_ids: Sequence[int], requested_by: str,
           now: datetime) -> int:
    with engine.begin() as connection:
        existing = set(connection.execute(
            select(CHANNELS.c.id).where(CHANNELS.c.id.in_(list(channel_ids)))).scalars())
        key = connection.execute(insert(RUNS).values(
            schedule_id=schedule_id, claim_key=claim_key, period_label=period.label,
            period_start=period.start, period_end=period.end, content=content.to_json(),
            csv=content.csv(), requested_by=requested_by[:320], created_at=now,
        )).inserted_primary_key
        assert key is not None
        run_id = int(key[0])
        for channel_id in dict.fromkeys(channel_ids):
            if channel_id in existing:  # a channel deleted since the schedule was saved
                connection.execute(insert(REPORT_DELIVERIES).values(
                    run_id=run_id, channel_id=channel_id, next_attempt_at=now))
        if claim_key is None:  # someone asked for it: audited with the report it queued
            record(connection, actor=requested_by, action="sent now", subject_kind=SUBJECT,
                   subject=content.schedule, after={"period": period.label})
    return run_id


def claim_period(engine: Engine, schedule_id: int, period: ReportPeriod, content: ReportContent,
                 channel_ids: Sequence[int], now: datetime) -> int | None:
    """Queue the period's report to its channels; None when another process queued it first."""
    try:
        return _queue(engine, schedule_id, period.key, period, content, channel_ids,
                      "schedule", now)
    except IntegrityError:
        return None


def queue_now(engine: Engine, schedule_id: int, period: ReportPeriod, content: ReportContent,
              channel_ids: Sequence[int], requested_by: str, now: datetime) -> int:
    """"Send now": a report of its own (no period key), so the scheduled one still goes out."""
    return _queue(engine, schedule_id, None, period, content, channel_ids, requested_by, now)


def _due(now: datetime) -> Any:
    return or_(and_(REPORT_DELIVERIES.c.status == "pending",
                    REPORT_DELIVERIES.c.next_attempt_at <= now),
               and_(REPORT_DELIVERIES.c.status == "sending", REPORT_DELIVERIES.c.lease_until < now))


def due_deliveries(engine: Engine, now: datetime, run_id: int | None = None,
                   limit: int = 100) -> list[int]:
    query = select(REPORT_DELIVERIES.c.id).where(_due(now))
    if run_id is not None:
        query = query.where(REPORT_DELIVERIES.c.run_id == run_id)
    with engine.connect() as connection:
        return list(connection.execute(
            query.order_by(REPORT_DELIVERIES.c.id).limit(limit)).scalars())


@dataclass(frozen=True, slots=True)
class ClaimedReport:
    """A delivery taken for sending, with what it needs: the channel row (secrets included:
    only for sending) and the report."""

    delivery: dict[str, Any]
    channel: dict[str, Any]
    run_id: int
    content: ReportContent
    csv: str


def claim_delivery(engine: Engine, delivery_id: int, now: datetime) -> ClaimedReport | None:
    """Take one due delivery; None when another sender has it."""
    with engine.begin() as connection:
        claimed = connection.execute(
            update(REPORT_DELIVERIES).where(REPORT_DELIVERIES.c.id == delivery_id, _due(now))
            .values(status="sending", lease_until=now + LEASE,
                    attempts=REPORT_DELIVERIES.c.attempts + 1,
                    first_attempt_at=func.coalesce(REPORT_DELIVERIES.c.first_attempt_at, now))
        )
        if claimed.rowcount != 1:
            return None
        delivery = dict(connection.execute(
            select(REPORT_DELIVERIES).where(REPORT_DELIVERIES.c.id == delivery_id)
        ).mappings().one())
        channel = dict(connection.execute(
            select(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])).mappings().one())
        run = connection.execute(
            select(RUNS.c.id, RUNS.c.content, RUNS.c.csv).where(RUNS.c.id == delivery["run_id"])
        ).one()
    return ClaimedReport(delivery, channel, run.id, ReportContent.from_json(run.content), run.csv)


def finish_delivery(engine: Engine, delivery: dict[str, Any], now: datetime, error: str | None,
                    permanent: bool = False, retry_after: float | None = None) -> str:
    """Record one attempt's outcome; returns the delivery's new status."""
    with engine.begin() as connection:
        return apply_outcome(connection, REPORT_DELIVERIES, delivery, now, error, permanent,
                             retry_after).status

