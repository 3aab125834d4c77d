"""Recording check results: result, state and state change in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from checks.result import ProbeResult
from core.decide import DEFAULT_THRESHOLDS, StateSnapshot, Thresholds, decide
from storage.db import session_scope
from storage.models import CheckResult, Monitor, MonitorState, StateChange, as_utc


def _snapshot(state: MonitorState) -> StateSnapshot:
    return StateSnapshot(
        state=state.state,
        since=as_utc(state.since) or state.since,
        reason=state.reason,
        consecutive_failures=state.consecutive_failures,
        consecutive_successes=state.consecutive_successes,
    )


def record_result(
    monitor_id: int, result: ProbeResult, limits: Thresholds = DEFAULT_THRESHOLDS
) -> StateChange | None:
    """Store one result and fold it into the monitor's state, atomically.

    Returns the state change it caused, if any. A monitor deleted while its check was
    in flight is skipped.
    """
    with session_scope() as session:
        if session.get(Monitor, monitor_id) is None:
            return None
        state = session.get(MonitorState, monitor_id) or MonitorState(monitor_id=monitor_id)
        row = CheckResult(
            monitor_id=monitor_id,
            checked_at=result.checked_at,
            outcome=result.outcome,
            latency_ms=result.latency_ms,
            http_status=result.http_status,
            reason=result.reason,
            phases=result.phases,
        )
        session.add(row)
        session.flush()
        snapshot, transition = decide(_snapshot(state), result, limits)
        state.state = snapshot.state
        state.since = snapshot.since
        state.reason = snapshot.reason
        state.consecutive_failures = snapshot.consecutive_failures
        state.consecutive_successes = snapshot.consecutive_successes
        state.last_check_at = result.checked_at
        state.last_latency_ms = result.latency_ms
        session.add(state)
        if transition is None:
            return None
        change = StateChange(
            monitor_id=monitor_id,
            at=transition.at,
            from_state=transition.from_state,
            to_state=transition.to_state,
            reason=transition.reason,
            result_id=row.id,
        )
        session.add(change)
        return change


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
