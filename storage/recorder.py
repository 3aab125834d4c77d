"""Recording check results in batches: one transaction writes the results, the monitors' states,
the state changes they caused and the hourly and daily rollups.

Batching is what lets thousands of monitors be recorded without the database slowing probing;
keeping everything in one transaction is what keeps rollups equal to the raw results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.histogram import LatencyHistogram
from analytics.rollup import Rollup, RollupKey, TimelinePoint, apply_increments, point_increments
from checks.result import ProbeResult
from core.decide import DEFAULT_THRESHOLDS, StateSnapshot, Thresholds, decide
from storage.models import CheckResult, MonitorState, RollupRow, StateChange, as_utc

RESULTS = CheckResult.__table__
STATES = MonitorState.__table__
CHANGES = StateChange.__table__
ROLLUPS = RollupRow.__table__
ROLLUP_VALUES = ("bucket_end", "up_s", "degraded_s", "down_s", "maintenance_s", "checks",
                 "failures", "histogram", "min_ms", "max_ms")


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a batch changed: monitors whose state moved, for dispatch and read models."""

    results: int
    changes: list[dict]


def _load_states(connection: Connection, monitor_ids: set[int]) -> dict[int, dict]:
    rows = connection.execute(
        select(STATES).where(STATES.c.monitor_id.in_(monitor_ids))
    ).mappings()
    return {row["monitor_id"]: dict(row) for row in rows}


def _fold_result(
    state: dict, result: ProbeResult, limits: Thresholds, tz: tzinfo
) -> tuple[list[Rollup], dict | None]:
    """Advance one monitor's state by one result; return rollup increments and any change."""
    last_check_at = as_utc(state["last_check_at"])
    previous = TimelinePoint(last_check_at, state["state"]) if last_check_at else None
    if previous is not None and result.checked_at < previous.at:
        previous = None  # a clock step backwards: count the check, not negative time
    snapshot, transition = decide(
        StateSnapshot(state["state"], as_utc(state["since"]) or result.checked_at,
                      state["reason"], state["consecutive_failures"],
                      state["consecutive_successes"]),
        result, limits,
    )
    point = TimelinePoint(result.checked_at, snapshot.state, result.outcome, result.latency_ms)
    state.update(
        state=snapshot.state, since=snapshot.since, reason=snapshot.reason,
        consecutive_failures=snapshot.consecutive_failures,
        consecutive_successes=snapshot.consecutive_successes,
        last_check_at=result.checked_at, last_latency_ms=result.latency_ms,
    )
    change = None
    if transition is not None:
        change = {
            "monitor_id": state["monitor_id"], "at": transition.at,
            "from_state": transition.from_state, "to_state": transition.to_state,
            "reason": transition.reason, "dispatched_at": None,
        }
    return point_increments(previous, point, tz), change


def _rollup_row(monitor_id: int, rollup: Rollup) -> dict:
    return {
        "monitor_id": monitor_id, "period": rollup.period, "bucket_start": rollup.bucket_start,
        "bucket_end": rollup.bucket_end, "up_s": rollup.up_s, "degraded_s": rollup.degraded_s,
        "down_s": rollup.down_s, "maintenance_s": rollup.maintenance_s, "checks": rollup.checks,
        "failures": rollup.failures, "histogram": rollup.histogram.to_bytes(),
        "min_ms": rollup.min_ms, "max_ms": rollup.max_ms,
    }


def rollup_from_row(row: dict, tz: tzinfo) -> Rollup:
    label_tz = tz if row["period"] == "day" else as_utc(row["bucket_start"]).tzinfo
    return Rollup(
        as_utc(row["bucket_start"]).astimezone(label_tz),
        as_utc(row["bucket_end"]).astimezone(label_tz),
        row["period"], row["up_s"], row["degraded_s"], row["down_s"], row["maintenance_s"],
        row["checks"], row["failures"], LatencyHistogram.from_bytes(row["histogram"]),
    )


def _merge_into_stored(
    connection: Connection, increments: dict[int, dict[RollupKey, Rollup]], tz: tzinfo
) -> list[dict]:
    """Add this batch's increments to the stored rows of the same buckets."""
    keys = [(m, period, start) for m, table in increments.items() for period, start in table]
    stored: dict[tuple, Rollup] = {}
    for chunk_start in range(0, len(keys), 500):
        chunk = keys[chunk_start:chunk_start + 500]
        rows = connection.execute(
            select(ROLLUPS).where(
                tuple_(ROLLUPS.c.monitor_id, ROLLUPS.c.period, ROLLUPS.c.bucket_start).in_(chunk)
            )
        ).mappings()
        for row in rows:
            rollup = rollup_from_row(dict(row), tz)
            stored[(row["monitor_id"], row["period"], rollup.bucket_start)] = rollup
    merged = []
    for monitor_id, table in increments.items():
        for (period, start), increment in table.items():
            existing = stored.get((monitor_id, period, start))
            if existing is not None:
                existing.merge(increment)
                increment = existing
            merged.append(_rollup_row(monitor_id, increment))
    return merged


def _upsert_rollups(connection: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ROLLUPS)
    statement = statement.on_conflict_do_update(
        index_elements=["monitor_id", "period", "bucket_start"],
        set_={name: statement.excluded[name] for name in ROLLUP_VALUES},
    )
    connection.execute(statement, rows)


def record_batch(
    connection: Connection,
    items: Sequence[tuple[int, ProbeResult]],
    tz: tzinfo,
    limits: dict[int, Thresholds] | None = None,
) -> Recorded:
    """Record results (in time order per monitor) inside the caller's transaction."""
    states = _load_states(connection, {monitor_id for monitor_id, _ in items})
    result_rows, changes = [], []
    increments: dict[int, dict[RollupKey, Rollup]] = defaultdict(dict)
    for monitor_id, result in sorted(items, key=lambda item: item[1].checked_at):
        state = states.get(monitor_id)
        if state is None:  # deleted while its check was in flight
            continue
        monitor_limits = (limits or {}).get(monitor_id, DEFAULT_THRESHOLDS)
        rollup_increments, change = _fold_result(state, result, monitor_limits, tz)
        apply_increments(increments[monitor_id], rollup_increments)
        result_rows.append({
            "monitor_id": monitor_id, "checked_at": result.checked_at,
            "outcome": result.outcome, "latency_ms": result.latency_ms,
            "http_status": result.http_status, "reason": result.reason, "phases": result.phases,
        })
        if change:
            changes.append(change)
    if not result_rows:
        return Recorded(0, [])
    connection.execute(insert(RESULTS), result_rows)
    touched = [states[m] for m in increments]
    connection.execute(
        update(STATES).where(STATES.c.monitor_id == bindparam("key")),
        [{**{k: v for k, v in s.items() if k != "monitor_id"}, "key": s["monitor_id"]}
         for s in touched],
    )
    if changes:
        connection.execute(insert(CHANGES), changes)
    _upsert_rollups(connection, _merge_into_stored(connection, increments, tz))
    return Recorded(len(result_rows), changes)
