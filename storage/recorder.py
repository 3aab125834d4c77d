"""Recording check results in batches: one transaction writes the results, the monitors' states,
the state changes they caused and the hourly and daily rollups.

Batching is what lets thousands of monitors be recorded without the database slowing probing;
keeping everything in one transaction is what keeps rollups equal to the raw results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.histogram import LatencyHistogram
from analytics.rollup import Rollup, RollupKey, TimelinePoint, fold_point
from checks.result import ProbeResult
from core.decide import DEFAULT_THRESHOLDS, StateSnapshot, Thresholds, decide
from notifiers.message import format_duration
from storage.alerting_models import CertificateWarning
from storage.maintenance import WindowSpec, load_windows, monitors_covered
from storage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    Monitor,
    MonitorState,
    RollupRow,
    StateChange,
    as_utc,
)

RESULTS = CheckResult.__table__
STATES = MonitorState.__table__
CHANGES = StateChange.__table__
ROLLUPS = RollupRow.__table__
MONITORS = Monitor.__table__
INCIDENTS = Incident.__table__
INCIDENT_UPDATES = IncidentUpdate.__table__
CERT_WARNINGS = CertificateWarning.__table__
# Days before a certificate expires at which a warning is sent, once each per certificate.
CERTIFICATE_WARNING_DAYS = (30, 14, 7)
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
    state: dict, result: ProbeResult, limits: Thresholds, tz: tzinfo, in_maintenance: bool,
    table: dict[RollupKey, Rollup],
) -> dict | None:
    """Advance one monitor's state by one result, fold it into its rollup increments (`table`);
    return any state change."""
    last_check_at = as_utc(state["last_check_at"])
    previous = TimelinePoint(last_check_at, state["state"]) if last_check_at else None
    if previous is not None and result.checked_at < previous.at:
        previous = None  # a clock step backwards: count the check, not negative time
    snapshot, transition = decide(
        StateSnapshot(state["state"], as_utc(state["since"]) or result.checked_at,
                      state["reason"], state["consecutive_failures"],
                      state["consecutive_successes"]),
        result, limits, in_maintenance,
    )
    point = TimelinePoint(result.checked_at, snapshot.state, result.outcome, result.latency_ms)
    state.update(
        state=snapshot.state, since=snapshot.since, reason=snapshot.reason,
        consecutive_failures=snapshot.consecutive_failures,
        consecutive_successes=snapshot.consecutive_successes,
        last_check_at=result.checked_at, last_latency_ms=result.latency_ms,
    )
    not_after = (result.tls or {}).get("not_after")
    if isinstance(not_after, str):
        state["cert_not_after"] = datetime.fromisoformat(not_after)
    change = None
    if transition is not None:
        change = {
            "monitor_id": state["monitor_id"], "at": transition.at,
            "from_state": transition.from_state, "to_state": transition.to_state,
            "reason": transition.reason, "dispatched_at": None, "kind": "state",
            "incident_id": None,
        }
    # Folding in place (rather than building and merging increments) runs once per result.
    fold_point(table, previous, point, tz)
    return change


def _rollup_row(monitor_id: int, rollup: Rollup) -> dict:
    return {
        "monitor_id": monitor_id, "period": rollup.period, "bucket_start": rollup.bucket_start,
        "bucket_end": rollup.bucket_end, "up_s": rollup.up_s, "degraded_s": rollup.degraded_s,
        "down_s": rollup.down_s, "maintenance_s": rollup.maintenance_s, "checks": rollup.checks,
        "failures": rollup.failures, "histogram": rollup.histogram.to_bytes(),
        "min_ms": rollup.min_ms, "max_ms": rollup.max_ms,
    }


def _stored_time(value: datetime, label_tz: tzinfo) -> datetime:
    """A bucket bound as stored: PostgreSQL returns an aware instant; SQLite drops the offset and
    returns the wall time the row was written in (UTC for hours, the local zone for days)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=label_tz)
    return value.astimezone(label_tz)


def rollup_from_row(row: dict, tz: tzinfo) -> Rollup:
    label_tz = tz if row["period"] == "day" else UTC
    return Rollup(
        _stored_time(row["bucket_start"], label_tz),
        _stored_time(row["bucket_end"], label_tz),
        row["period"], row["up_s"], row["degraded_s"], row["down_s"], row["maintenance_s"],
        row["checks"], row["failures"], LatencyHistogram.from_bytes(row["histogram"]),
    )


def _merge_into_stored(
    connection: Connection, increments: dict[int, dict[RollupKey, Rollup]], tz: tzinfo
) -> list[dict]:
    """Add this batch's increments to the stored rows of the same buckets."""
    wanted: dict[str, set[datetime]] = defaultdict(set)
    for table in increments.values():
        for period, start in table:
            wanted[period].add(start)
    stored: dict[tuple, Rollup] = {}
    monitor_ids = list(increments)
    # Plain IN lists per column use the primary key index; a row-value IN scans on SQLite.
    for period, starts in wanted.items():
        for chunk_start in range(0, len(monitor_ids), 500):
            rows = connection.execute(
                select(ROLLUPS).where(
                    ROLLUPS.c.monitor_id.in_(monitor_ids[chunk_start:chunk_start + 500]),
                    ROLLUPS.c.period == period,
                    ROLLUPS.c.bucket_start.in_(sorted(starts)),
                )
            ).mappings()
            for row in rows:
                rollup = rollup_from_row(dict(row), tz)
                stored[(row["monitor_id"], period, rollup.bucket_start)] = rollup
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


def _load_monitors(connection: Connection, monitor_ids: set[int]) -> dict[int, dict]:
    rows = connection.execute(
        select(MONITORS.c.id, MONITORS.c.name, MONITORS.c.group_name, MONITORS.c.public)
        .where(MONITORS.c.id.in_(monitor_ids))
    ).mappings()
    return {row["id"]: dict(row) for row in rows}


def _in_maintenance(windows: list[WindowSpec], monitor: dict, at: datetime) -> bool:
    return bool(windows) and bool(
        monitors_covered(windows, [(monitor["id"], monitor["group_name"])], at)
    )


def _open_incident(connection: Connection, change: dict, monitor: dict) -> int:
    name = monitor["name"]
    incident_id = connection.execute(
        insert(INCIDENTS).values(
            monitor_id=change["monitor_id"], title=f"{name} is down", status="investigating",
            cause=change["reason"], started_at=change["at"], public=monitor["public"],
        )
    ).inserted_primary_key[0]
    # The timeline is public: the raw error stays in `cause`, which only admins see.
    connection.execute(insert(INCIDENT_UPDATES).values(
        incident_id=incident_id, at=change["at"], status="investigating",
        message=f"{name} is down.",
    ))
    return incident_id


def _close_incident(connection: Connection, change: dict, monitor: dict) -> int | None:
    row = connection.execute(
        select(INCIDENTS.c.id, INCIDENTS.c.started_at)
        .where(INCIDENTS.c.monitor_id == change["monitor_id"], INCIDENTS.c.resolved_at.is_(None))
        .order_by(INCIDENTS.c.started_at.desc()).limit(1)
    ).first()
    if row is None:
        return None
    connection.execute(
        update(INCIDENTS).where(INCIDENTS.c.id == row.id)
        .values(resolved_at=change["at"], status="resolved")
    )
    lasted = format_duration(change["at"] - as_utc(row.started_at))
    how = "maintenance began" if change["to_state"] == "maintenance" else "it recovered"
    connection.execute(insert(INCIDENT_UPDATES).values(
        incident_id=row.id, at=change["at"], status="resolved",
        message=f"{monitor['name']} was down for {lasted}; {how}.",
    ))
    return row.id


def _certificate_warning(
    connection: Connection, monitor_id: int, result: ProbeResult, state: str
) -> dict | None:
    """A certificate event when a new threshold (30/14/7 days) was crossed for this certificate."""
    tls = result.tls or {}
    try:
        days_left = int(tls["days_left"])  # type: ignore[call-overload]
        not_after = str(tls["not_after"])
    except (KeyError, TypeError, ValueError):
        return None
    crossed = [days for days in CERTIFICATE_WARNING_DAYS if days_left <= days]
    if not crossed:
        return None
    warned = set(connection.execute(
        select(CERT_WARNINGS.c.threshold_days).where(
            CERT_WARNINGS.c.monitor_id == monitor_id, CERT_WARNINGS.c.not_after == not_after)
    ).scalars())
    if min(crossed) in warned:
        return None
    connection.execute(insert(CERT_WARNINGS), [
        {"monitor_id": monitor_id, "not_after": not_after, "threshold_days": days,
         "at": result.checked_at}
        for days in crossed if days not in warned
    ])
    when = "has expired" if days_left < 0 else f"expires in {days_left} days"
    return {
        "monitor_id": monitor_id, "at": result.checked_at, "from_state": state,
        "to_state": state, "reason": f"TLS certificate {when} ({not_after[:10]})",
        "dispatched_at": None, "kind": "certificate", "incident_id": None,
    }


def record_batch(
    connection: Connection,
    items: Sequence[tuple[int, ProbeResult]],
    tz: tzinfo,
    limits: dict[int, Thresholds] | None = None,
) -> Recorded:
    """Record results (in time order per monitor) inside the caller's transaction.

    In the same transaction: a monitor going down opens an incident, its recovery closes it,
    results inside a maintenance window put the monitor in "maintenance", and a certificate
    crossing a warning threshold becomes an event. State changes are the notification outbox.
    """
    monitor_ids = {monitor_id for monitor_id, _ in items}
    states = _load_states(connection, monitor_ids)
    monitors = _load_monitors(connection, monitor_ids)
    windows = load_windows(connection)
    result_rows, changes = [], []
    increments: dict[int, dict[RollupKey, Rollup]] = defaultdict(dict)
    for monitor_id, result in sorted(items, key=lambda item: item[1].checked_at):
        state = states.get(monitor_id)
        monitor = monitors.get(monitor_id)
        if state is None or monitor is None:  # deleted while its check was in flight
            continue
        monitor_limits = (limits or {}).get(monitor_id, DEFAULT_THRESHOLDS)
        change = _fold_result(
            state, result, monitor_limits, tz,
            _in_maintenance(windows, monitor, result.checked_at), increments[monitor_id],
        )
        result_rows.append({
            "monitor_id": monitor_id, "checked_at": result.checked_at,
            "outcome": result.outcome, "latency_ms": result.latency_ms,
            "http_status": result.http_status, "reason": result.reason, "phases": result.phases,
        })
        if change:
            if change["from_state"] == "down":
                change["incident_id"] = _close_incident(connection, change, monitor)
            if change["to_state"] == "down":
                change["incident_id"] = _open_incident(connection, change, monitor)
            changes.append(change)
        if result.tls and state["state"] != "maintenance":
            warning = _certificate_warning(connection, monitor_id, result, state["state"])
            if warning:
                changes.append(warning)
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
