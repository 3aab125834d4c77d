"""Recording check results: result, state and state change in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from checks.result import ProbeResult
from core.decide import DEFAULT_THRESHOLDS, Thresholds
from core.settings import get_settings
from storage.db import get_engine, session_scope
from storage.models import CheckResult, as_utc
from storage.recorder import record_batch


def record_result(
    monitor_id: int, result: ProbeResult, limits: Thresholds = DEFAULT_THRESHOLDS
) -> dict | None:
    """Store one result and fold it into the monitor's state and rollups, atomically.

    Returns the state change it caused, if any. A monitor deleted while its check was in
    flight is skipped.
    """
    with get_engine().begin() as connection:
        recorded = record_batch(
            connection, [(monitor_id, result)], get_settings().zone, {monitor_id: limits}
        )
    return recorded.changes[0] if recorded.changes else None


def recent_results(monitor_id: int, limit: int = 50) -> list[CheckResult]:
    with session_scope() as session:
        rows = session.exec(
            select(CheckResult)
            .where(CheckResult.monitor_id == monitor_id)
            .order_by(CheckResult.checked_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
        return list(rows)


def uptime_since(monitor_ids: list[int], start: datetime, now: datetime) -> dict[int, float | None]:
    """Time-based uptime since `start`: each result's outcome holds until the next result.

    Time before a monitor's first result in the window is not observed. None when nothing
    was observed.
    """
    up: dict[int, float] = dict.fromkeys(monitor_ids, 0.0)
    observed: dict[int, float] = dict.fromkeys(monitor_ids, 0.0)
    previous: dict[int, tuple[datetime, bool]] = {}
    with session_scope() as session:
        rows = session.exec(
            select(CheckResult.monitor_id, CheckResult.checked_at, CheckResult.outcome)
            .where(CheckResult.monitor_id.in_(monitor_ids))  # type: ignore[attr-defined]
            .where(CheckResult.checked_at >= start - timedelta(days=1))
            .order_by(CheckResult.monitor_id, CheckResult.checked_at)
        ).all()
    for monitor_id, checked_at, outcome in [*rows, *((m, now, "") for m in monitor_ids)]:
        checked_at = as_utc(checked_at) or checked_at
        if monitor_id in previous:
            since, was_up = previous[monitor_id]
            span = (checked_at - max(since, start)).total_seconds()
            if span > 0:
                observed[monitor_id] += span
                up[monitor_id] += span if was_up else 0.0
        previous[monitor_id] = (checked_at, outcome in ("up", "degraded"))
    return {m: (up[m] / observed[m] if observed[m] > 0 else None) for m in monitor_ids}
