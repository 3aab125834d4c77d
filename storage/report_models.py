"""Tables: scheduled reports, each report made, and its sends to each channel.

Exactly once per period: `report_run` holds one row per (schedule, period key) for scheduled
reports (`claim_key`, unique; NULL for "send now", so a test never takes a period's place), and
the run's `report_delivery` rows are inserted in the same transaction. Whichever process inserts
the run first queues the sends; the others' inserts fail on the key and queue nothing. A
delivery is then claimed and finished as the alert deliveries are (storage/report_outbox.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class ReportSchedule(SQLModel, table=True):
    """A summary sent every day, week or month at a local time (domain/report_schedule)."""

    __tablename__ = "report_schedule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    period: str = Field(max_length=16)  # daily | weekly | monthly
    send_at: str = Field(max_length=5)  # "HH:MM", local time in `timezone`
    timezone: str = Field(max_length=64)
    channel_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    target_percent: float = 99.9
    enabled: bool = True
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class ReportRun(SQLModel, table=True):
    """One report made: its period, its content (what every channel renders) and its CSV."""

    __tablename__ = "report_run"
    __table_args__ = (
        UniqueConstraint("schedule_id", "claim_key", name="uq_report_run_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="report_schedule.id", ondelete="CASCADE", index=True)
    claim_key: str | None = Field(default=None, max_length=40)  # "weekly:2026-03-23"; NULL: now
    period_label: str = Field(max_length=16)
    period_start: datetime = _ts()
    period_end: datetime = _ts()
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    csv: str = Field(default="", sa_column=Column(Text, nullable=False))
    requested_by: str = Field(default="schedule", max_length=320)
    created_at: datetime = _ts(default_factory=utcnow)


class ReportDelivery(SQLModel, table=True):
    """One report to one channel: pending -> sending -> delivered | pending (retry) | failed."""

    __tablename__ = "report_delivery"
    __table_args__ = (
        UniqueConstraint("run_id", "channel_id", name="uq_report_delivery_once"),
        Index("ix_report_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="report_run.id", ondelete="CASCADE", index=True)
    channel_id: int = Field(foreign_key="alert_channel.id", ondelete="CASCADE")
    status: str = Field(default="pending", max_length=12)
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    first_attempt_at: datetime | None = _ts(default=None)
    lease_until: datetime | None = _ts(default=None)
    attempts: int = 0
    delivered_at: datetime | None = _ts(default=None)
    last_error: str | None = None
