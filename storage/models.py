"""The tables: monitors, every check result, each monitor's current state, state changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel


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
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class MonitorState(SQLModel, table=True):
    """The persisted state machine of one monitor: a restart forgets nothing."""

    __tablename__ = "monitor_state"

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    state: str = "pending"
    reason: str | None = None
    since: datetime = _ts(default_factory=utcnow)
    last_check_at: datetime | None = _ts(default=None)
    last_latency_ms: float | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0


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


class RollupRow(SQLModel, table=True):
    """One hour (UTC) or one calendar day (in the configured time zone) of a monitor's history.

    Uptime and percentiles over any window are merges of these rows, never scans of raw results.
    """

    __tablename__ = "rollup"

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
