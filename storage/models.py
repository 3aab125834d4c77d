"""The tables: monitors, every check result, each monitor's current state, state changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

from domain.states import NEW_STATE
from storage.encrypted_types import SealedOptions


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every stored time is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class Monitor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(unique=True, max_length=100)
    kind: str = Field(default="http", max_length=16)
    url: str
    interval: int = 60
    timeout: float = 10.0
    public: bool = False
    paused: bool = False
    # Kind-specific check options (see domain/check_options.py), validated before saving; the
    # secret ones (passwords, tokens, header values) are sealed in the database.
    options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(SealedOptions(), nullable=False))
    # Confirmation: down after N consecutive failures, up again after M successes; a failed
    # check is retried after `retry_interval` seconds instead of the full interval.
    failures_before_down: int = 2
    successes_before_up: int = 1
    retry_interval: int | None = None
    push_token: str | None = Field(default=None, unique=True, max_length=64)
    # The status page: which group the component is shown in, its place, whether its URL shows.
    group_name: str | None = Field(default=None, max_length=100)
    sort_order: int = 0
    show_url: bool = False
    severity: str = Field(default="high", max_length=16)  # critical | high | low: routing
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Slugs of the monitors this one depends on (domain/dependencies).
    depends_on: list[str] = Field(default_factory=list,
                                  sa_column=Column(JSON, nullable=False, server_default="[]"))
    runbook_url: str | None = Field(default=None, max_length=2048)
    # Alert rules over time windows (domain/window_rules.WindowRule, as objects).
    rules: list[dict] = Field(default_factory=list,
                              sa_column=Column(JSON, nullable=False, server_default="[]"))
    # Per-monitor reminders and flap detection; None takes the settings' default.
    remind_every_minutes: int | None = None
    flap_changes: int | None = None
    flap_window_minutes: int | None = None
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class MonitorState(SQLModel, table=True):
    """The persisted state machine of one monitor: a restart forgets nothing."""

    __tablename__ = "monitor_state"
    # Room on each page for HOT updates: every batch rewrites the row (migration 0002).
    __table_args__ = {"postgresql_with": {"fillfactor": 50}}

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    state: str = NEW_STATE
    reason: str | None = None
    since: datetime = _ts(default_factory=utcnow)
    last_check_at: datetime | None = _ts(default=None)
    last_latency_ms: float | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    # When the last certificate seen (https and tls monitors) expires: the certificate badge.
    cert_not_after: datetime | None = _ts(default=None)


class CheckResult(SQLModel, table=True):
    __tablename__ = "check_result"
    __table_args__ = (Index("ix_check_result_monitor_time", "monitor_id", "checked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor_id: int = Field(foreign_key="monitor.id", ondelete="CASCADE")
    checked_at: datetime = _ts()
    outcome: str = Field(max_length=16)
    latency_ms: float | None = None
    http_status: int | None = None
    reason: str | None = None
    phases: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class StateChange(SQLModel, table=True):
    """A transition of a monitor's state; committed with the result that caused it.

    It is also the outbox of notifications: `dispatched_at` is set once it was handled. The
    result that caused it is the monitor's result checked at `at`.
    """

    __tablename__ = "state_change"

    id: int | None = Field(default=None, primary_key=True)
    monitor_id: int = Field(foreign_key="monitor.id", index=True, ondelete="CASCADE")
    at: datetime = _ts()
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    reason: str | None = None
    dispatched_at: datetime | None = _ts(default=None)
    # "state" for a transition; "certificate" for a certificate warning (from == to state);
    # "settled" when a flapping monitor calmed down (written by the dispatcher).
    kind: str = Field(default="state", max_length=16)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", ondelete="SET NULL")


class RollupRow(SQLModel, table=True):
    """One hour (UTC) or one calendar day (in the configured time zone) of a monitor's history.

    Uptime and percentiles over any window are merges of these rows, never scans of raw results.
    """

    __tablename__ = "rollup"
    # Room on each page for HOT updates of the current buckets (migration 0002).
    __table_args__ = {"postgresql_with": {"fillfactor": 80}}

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    period: str = Field(primary_key=True, max_length=4)  # "hour" | "day"
    bucket_start: datetime = _ts(primary_key=True)
    bucket_end: datetime = _ts()
    up_s: int = 0
    degraded_s: int = 0
    down_s: int = 0
    maintenance_s: int = 0
    checks: int = 0
    failures: int = 0
    histogram: bytes = b""
    min_ms: float | None = None
    max_ms: float | None = None


class Certificate(SQLModel, table=True):
    """The certificate a monitor was last served, written when it changes (not every check).

    `changed_at` is when this certificate was first seen in place of another one: a renewal.
    """

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    fingerprint: str = Field(max_length=95)  # SHA-256, as colon-separated hex
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    first_seen_at: datetime = _ts()
    changed_at: datetime | None = _ts(default=None)
    previous_fingerprint: str | None = Field(default=None, max_length=95)


class Incident(SQLModel, table=True):
    """An outage: opened by a monitor going down (or by an admin), closed on recovery."""

    id: int | None = Field(default=None, primary_key=True)
    monitor_id: int | None = Field(
        default=None, foreign_key="monitor.id", index=True, ondelete="SET NULL"
    )
    title: str = Field(max_length=200)
    # investigating, identified, monitoring or resolved
    status: str = Field(default="investigating", max_length=16)
    cause: str | None = None  # the failing result's reason
    started_at: datetime = _ts(default_factory=utcnow)
    resolved_at: datetime | None = _ts(default=None)
    acknowledged_at: datetime | None = _ts(default=None)
    acknowledged_by: str | None = Field(default=None, max_length=100)
    public: bool = True  # shown on the status page (incidents of private monitors are not)
    # The monitor's severity when the incident opened (None: not tied to a monitor).
    severity: str | None = Field(default=None, max_length=16)
    # Names of the monitors that failed while this outage blocked them (admins only).
    affected: list[str] = Field(default_factory=list,
                                sa_column=Column(JSON, nullable=False, server_default="[]"))


class IncidentUpdate(SQLModel, table=True):
    """One entry of an incident's public timeline, in Markdown."""

    __tablename__ = "incident_update"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    at: datetime = _ts(default_factory=utcnow)
    status: str = Field(max_length=16)
    message: str = ""


class MaintenanceWindow(SQLModel, table=True):
    """Planned work: one-off (starts_at..ends_at) or recurring (cron in a time zone + duration).

    Applies to one monitor, to every monitor of a group, or (neither set) to all monitors.
    """

    __tablename__ = "maintenance_window"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = ""
    monitor_id: int | None = Field(
        default=None, foreign_key="monitor.id", index=True, ondelete="CASCADE"
    )
    group_name: str | None = Field(default=None, max_length=100)
    starts_at: datetime | None = _ts(default=None)
    ends_at: datetime | None = _ts(default=None)
    cron: str | None = Field(default=None, max_length=100)
    timezone: str = Field(default="UTC", max_length=64)
    duration_minutes: int | None = None
    notify: bool = False  # send a notice when the window starts and ends


class AuditEntry(SQLModel, table=True):
    """One change made through the dashboard or the API: who, when, and the values before and
    after (secrets masked before they are stored). Written in the change's own transaction."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow)
    actor: str = Field(max_length=320)  # "admin", "api-token", an e-mail address
    action: str = Field(max_length=32)  # created | updated | deleted | paused | resumed | ...
    subject_kind: str = Field(max_length=32)  # monitor | channel | maintenance | incident | ...
    subject: str = Field(max_length=200)  # the slug, name or id the change was made to
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ApiToken(SQLModel, table=True):
    """A named API token: its scope, expiry and use. Only its SHA-256 is kept (domain/tokens)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    scope: str = Field(max_length=16)  # read | write | admin
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # the token's first characters, to tell it apart
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)
    last_used_at: datetime | None = _ts(default=None)
