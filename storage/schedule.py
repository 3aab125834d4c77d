"""What the probe engine needs to know about monitors, read in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from storage.db import session_scope
from storage.models import Monitor, as_utc


@dataclass(frozen=True, slots=True)
class CheckSpec:
    monitor_id: int
    kind: str
    url: str
    interval: int
    timeout: float
    options: dict
    version: datetime  # changes whenever the monitor is edited


def active_check_specs() -> dict[int, CheckSpec]:
    with session_scope() as session:
        monitors = session.exec(select(Monitor).where(Monitor.paused == False)).all()  # noqa: E712
        return {
            m.id: CheckSpec(
                monitor_id=m.id,
                kind=m.kind,
                url=m.url,
                interval=m.interval,
                timeout=m.timeout,
                options=dict(m.options or {}),
                version=as_utc(m.updated_at) or m.updated_at,
            )
            for m in monitors
            if m.id is not None
        }
