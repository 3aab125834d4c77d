"""The tables of paging: channels, routes, deliveries and their attempts, alerting settings.

The delivery protocol (see notifiers/dispatcher.py) rests on two conditional updates:
`state_change.dispatched_at` claims an event and plans its deliveries in one transaction, and
`delivery.status` / `lease_until` claims one delivery for one send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.encrypted_types import SealedStrings, SealedText
from storage.models import utcnow


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)


ALL_EVENTS = ("down", "up", "degraded", "certificate", "maintenance")


class AlertChannel(SQLModel, table=True):
    """One destination. `source` "env" rows take their secrets from the settings, never the DB."""

    __tablename__ = "alert_channel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    # slack_webhook | slack_bot | sms | email | webhook | pagerduty
    kind: str = Field(max_length=16)
    source: str = Field(default="db", max_length=8)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secrets: dict[str, str] = Field(  # sealed in the database
        default_factory=dict, sa_column=Column(SealedStrings(), nullable=False))
    events: list[str] = Field(
        default_factory=lambda: list(ALL_EVENTS), sa_column=Column(JSON, nullable=False)
    )
    enabled: bool = True
    # Escalation: 0 pages at once; N pages only if the incident is still open and
    # unacknowledged N minutes after it began.
    escalate_after_minutes: int = 0
    # Quiet hours (in `quiet_timezone`, "HH:MM"): only monitors of at least `quiet_min_severity`.
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    quiet_timezone: str = Field(default="UTC", max_length=64)
    quiet_min_severity: str = Field(default="critical", max_length=16)
    failing_since: datetime | None = _ts(default=None)
    failing_error: str | None = None


class MonitorRoute(SQLModel, table=True):
    """A monitor's channels. A monitor without routes is paged on every enabled channel."""

    __tablename__ = "monitor_route"

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    channel_id: int = Field(primary_key=True, foreign_key="alert_channel.id", ondelete="CASCADE")


class Delivery(SQLModel, table=True):
    """One notice to one channel. Planned once; sent until delivered, failed or skipped.

    status: pending -> sending -> delivered | pending (retry) | failed | skipped.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "channel_id", "kind", "sequence", name="uq_delivery_once"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="state_change.id", ondelete="CASCADE")
    channel_id: int = Field(foreign_key="alert_channel.id", ondelete="CASCADE")
    incident_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=20)  # a NoticeKind
    sequence: int = 0  # reminders: 1, 2, 3...
    # Escalations and reminders are cancelled if the incident was acknowledged or resolved.
    needs_open_incident: bool = False
    status: str = Field(default="pending", max_length=12)
    created_at: datetime = _ts(default_factory=utcnow)
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    first_attempt_at: datetime | None = _ts(default=None)
    lease_until: datetime | None = _ts(default=None)
    attempts: int = 0
    delivered_at: datetime | None = _ts(default=None)
    last_error: str | None = None


class DeliveryAttempt(SQLModel, table=True):
    """The log: one row per send attempt, with the provider's own error."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True, ondelete="CASCADE")
    channel_name: str = Field(max_length=64)
    at: datetime = _ts(default_factory=utcnow)
    outcome: str = Field(max_length=12)  # delivered | retry | permanent | interrupted
    error: str | None = None
    duration_ms: float | None = None


class AlertSettings(SQLModel, table=True):
    """One row: reminders, flapping detection, the digest and the link-signing key."""

    __tablename__ = "alert_settings"

    id: int = Field(default=1, primary_key=True)
    remind_every_minutes: int = 0  # 0: no reminders
    flap_changes: int = 5  # more than this many state changes ...
    flap_window_minutes: int = 10  # ... within this many minutes is flapping
    # Severities whose changes are listed in an hourly digest per channel instead of paging
    # (the steps per severity are storage/escalation_models.EscalationStep).
    digest_severities: list[str] = Field(default_factory=list,
                                         sa_column=Column(JSON, nullable=False))
    secret_key: str | None = Field(  # sealed in the database
        default=None, sa_column=Column(SealedText(), nullable=True))


class FlapState(SQLModel, table=True):
    """Monitors currently flapping: one notice said so; per-change notices wait until it settles."""

    __tablename__ = "flap_state"

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    since: datetime = _ts(default_factory=utcnow)


class CertificateWarning(SQLModel, table=True):
    """Certificate warnings already raised: at most one per certificate and threshold."""

    __tablename__ = "certificate_warning"

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    not_after: str = Field(primary_key=True, max_length=40)
    threshold_days: int = Field(primary_key=True)
    at: datetime = _ts(default_factory=utcnow)
