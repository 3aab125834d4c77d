"""What the probe engine needs to know about monitors, read in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import select

from domain.push import MISSED_BEAT_PREFIX
from storage.db import session_scope
from storage.models import CheckResult, Monitor, as_utc


@dataclass(frozen=True, slots=True)
class CheckSpec:
    monitor_id: int
    kind: str
    url: str
    interval: int
    timeout: float
    options: dict
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
    Monitor.id, Monitor.kind, Monitor.url, Monitor.interval, Monitor.timeout, Monitor.options,
    Monitor.updated_at, Monitor.failures_before_down, Monitor.successes_before_up,
    Monitor.retry_interval, Monitor.created_at,
)


def monitors_fingerprint() -> tuple:
    """Changes whenever a monitor is added, edited, paused or removed: one cheap query, so the
    engine can look often and read every monitor only when something changed."""
    with session_scope() as session:
        return tuple(session.exec(
            select(func.count(Monitor.id), func.max(Monitor.updated_at), func.max(Monitor.id))
        ).one())


def active_check_specs() -> dict[int, CheckSpec]:
    with session_scope() as session:
        rows = session.exec(select(*_COLUMNS).where(Monitor.paused == False)).all()  # noqa: E712
        return {
            row[0]: CheckSpec(
                monitor_id=row[0], kind=row[1], url=row[2], interval=row[3], timeout=row[4],
                options=dict(row[5] or {}), version=as_utc(row[6]) or row[6],
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
        rows = session.exec(
            select(CheckResult.monitor_id, func.max(CheckResult.checked_at))
            .where(CheckResult.monitor_id.in_(monitor_ids))  # type: ignore[attr-defined]
            .where(or_(CheckResult.reason.is_(None),  # type: ignore[union-attr]
                       ~CheckResult.reason.startswith(MISSED_BEAT_PREFIX)))  # type: ignore[union-attr]
            .group_by(CheckResult.monitor_id)
        ).all()
        return {monitor_id: as_utc(at) for monitor_id, at in rows if at is not None}
