"""What the probe engine needs to know about monitors, read in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from domain.push import MISSED_BEAT_PREFIX
from storage.db import session_scope
from storage.models import CheckResult, Monitor, as_utc
from storage.tables import table_of, utc

MONITORS = table_of(Monitor)
RESULTS = table_of(CheckResult)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    monitor_id: int
    kind: str
    url: str
    interval: int
    timeout: float
    options: dict[str, Any]
    version: datetime  # changes whenever the monitor is edited
    failures_before_down: int = 2
    successes_before_up: int = 1
    retry_interval: int | None = None
    created_at: datetime | None = None

    @property
    def retry_after(self) -> int:
        """Seconds before re-checking after a failure, so an outage is confirmed quickly."""
        if self.retry_interval is not None:
            return self.retry_interval
        return min(self.interval, 20)


_COLUMNS = (
    MONITORS.c.id, MONITORS.c.kind, MONITORS.c.url, MONITORS.c.interval, MONITORS.c.timeout,
    MONITORS.c.options, MONITORS.c.updated_at, MONITORS.c.failures_before_down,
    MONITORS.c.successes_before_up, MONITORS.c.retry_interval, MONITORS.c.created_at,
)


def monitors_fingerprint() -> tuple[Any, ...]:
    """Changes whenever a monitor is added, edited, paused or removed: one cheap query, so the
    engine can look often and read every monitor only when something changed."""
    with session_scope() as session:
        return tuple(session.execute(
            select(func.count(MONITORS.c.id), func.max(MONITORS.c.updated_at),
                   func.max(MONITORS.c.id))
        ).one())


def active_check_specs() -> dict[int, CheckSpec]:
    with session_scope() as session:
        rows = session.execute(
            select(*_COLUMNS).where(MONITORS.c.paused.is_(False))).all()
        return {
            row[0]: CheckSpec(
                monitor_id=row[0], kind=row[1], url=row[2], interval=row[3], timeout=row[4],
                options=dict(row[5] or {}), version=utc(row[6]),
                failures_before_down=row[7], successes_before_up=row[8], retry_interval=row[9],
                created_at=as_utc(row[10]),
            )
            for row in rows
            if row[0] is not None
        }


def last_beats(monitor_ids: list[int]) -> dict[int, datetime]:
    """When each push monitor last received a heartbeat (results the engine wrote excluded)."""
    if not monitor_ids:
        return {}
    with session_scope() as session:
        rows = session.execute(
            select(RESULTS.c.monitor_id, func.max(RESULTS.c.checked_at))
            .where(RESULTS.c.monitor_id.in_(monitor_ids))
            .where(or_(RESULTS.c.reason.is_(None),
                       ~RESULTS.c.reason.startswith(MISSED_BEAT_PREFIX)))
            .group_by(RESULTS.c.monitor_id)
        ).all()
        return {monitor_id: utc(at) for monitor_id, at in rows if at is not None}
