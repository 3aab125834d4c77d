"""Recording check results in batches: one transaction writes the results, the monitors' states,
the state changes they caused and the hourly and daily rollups.

Batching is what lets thousands of monitors be recorded without the database slowing probing;
keeping everything in one transaction is what keeps rollups equal to the raw results.

Here each monitor's results go through the state machine and are folded into rollup increments;
the plain rows are read and written by storage/batch_rows.py, rollups merged and written by
storage/rollup_writes.py, incidents opened and closed by storage/incident_writes.py and
certificate notices raised by storage/certificate_notices.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial
from operator import attrgetter

from sqlalchemy import Connection, insert

from analytics.rollup import Rollup, RollupKey, TimelinePoint
from analytics.rollup_folding import RollupFolder
from domain.decide import DEFAULT_THRESHOLDS, StateSnapshot, Thresholds, Transition, decide
from domain.result import ProbeResult
from storage.batch_driver import BatchDriver
from storage.batch_rows import insert_results, load_monitors, load_states, update_states
from storage.certificate_notices import certificate_warning
from storage.certificates import remember_certificates
from storage.dependency_blocks import (
    Blocker,
    find_blocker,
    note_affected,
    outage_was_blocked,
    parents_of,
)
from storage.incident_writes import close_incident, open_incident
from storage.maintenance import WindowSpec, load_windows, monitors_covered
from storage.models import StateChange, as_utc
from storage.rollup_writes import merged_rollup_rows, write_rollups
from storage.rule_watch import RuleWatch, Seen
from storage.tables import table_of, utc

_checked_at = attrgetter("checked_at")
CHANGES = table_of(StateChange)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a batch changed: monitors whose state moved, for dispatch and read models."""

    results: int
    changes: list[dict]


def _fold_results(
    state: dict, results: list[ProbeResult], limits: Thresholds, tz: tzinfo,
    maintenance: Callable[[datetime], bool] | None, table: dict[RollupKey, Rollup],
    seen: list[Seen] | None = None,
) -> list[tuple[ProbeResult, Transition | None, str]]:
    """Advance one monitor's state through its results (in time order), folding each into its
    rollup increments (`table`); `maintenance` is None when no window exists. `seen`, given for
    a monitor with alert rules, receives each result with the state it left.

    Returns the results that need more than a row (a state change, TLS facts), each with the
    state change it caused, if any, and the state it left."""
    last_check_at = as_utc(state["last_check_at"])
    folder = RollupFolder(table, tz, TimelinePoint(last_check_at, state["state"])
                          if last_check_at else None)
    snapshot = StateSnapshot(state["state"], utc(state["since"]), state["reason"],
                             state["consecutive_failures"], state["consecutive_successes"])
    notable = []
    add_point = folder.add_point
    for result in results:
        at = result.checked_at
        if folder.previous_at is not None and at < folder.previous_at:
            folder.forget_previous()  # a clock step backwards: count the check, not negative time
        if snapshot.since is None:
            snapshot = StateSnapshot(snapshot.state, at, snapshot.reason,
                                     snapshot.consecutive_failures, snapshot.consecutive_successes)
        snapshot, transition = decide(snapshot, result, limits,
                                      maintenance is not None and maintenance(at))
        add_point(at, snapshot.state, result.outcome, result.latency_ms)
        if seen is not None:
            seen.append((at, result.outcome, result.latency_ms, snapshot.state))
        if transition is not None or result.tls:
            notable.append((result, transition, snapshot.state))
            not_after = (result.tls or {}).get("not_after")
            if isinstance(not_after, str):
                state["cert_not_after"] = datetime.fromisoformat(not_after)
    state.update(
        state=snapshot.state, since=snapshot.since, reason=snapshot.reason,
        consecutive_failures=snapshot.consecutive_failures,
        consecutive_successes=snapshot.consecutive_successes,
        last_check_at=results[-1].checked_at, last_latency_ms=results[-1].latency_ms,
    )
    return notable


def _change_row(monitor_id: int, transition: Transition) -> dict:
    return {
        "monitor_id": monitor_id, "at": transition.at,
        "from_state": transition.from_state, "to_state": transition.to_state,
        "reason": transition.reason, "dispatched_at": None, "kind": "state",
        "incident_id": None,
    }


def _has_parents(monitor: dict | None) -> bool:
    return monitor is not None and bool(parents_of(monitor))


def _blocked(connection: Connection, change: dict, state: dict, monitor: dict,
             blocker: Blocker) -> None:
    """A child down while its parent is: said so, no incident of its own, no page (the change
    is written handled); the parent's incident lists it."""
    reason = f"blocked by {blocker.name}" + (f": {change['reason']}" if change["reason"] else "")
    change.update(reason=reason, dispatched_at=change["at"])
    if state["state"] == "down":
        state["reason"] = reason
    if blocker.incident_id is not None:
        note_affected(connection, blocker.incident_id, monitor["name"])


def _in_maintenance(windows: list[WindowSpec], monitor: dict, at: datetime) -> bool:
    return bool(windows) and bool(
        monitors_covered(windows, [(monitor["id"], monitor["group_name"])], at)
    )


def record_batch(
    connection: Connection,
    items: Sequence[tuple[int, ProbeResult]],
    tz: tzinfo,
    limits: dict[int, Thresholds] | None = None,
    rules: RuleWatch | None = None,
) -> Recorded:
    """Record results (in time order per monitor) inside the caller's transaction.

    In the same transaction: a monitor going down opens an incident, its recovery closes it,
    results inside a maintenance window put the monitor in "maintenance", a certificate
    crossing a warning threshold becomes an event, and, given `rules` (the engine's), an alert
    rule that starts or stops holding becomes one. State changes are the notification outbox.
    """
    by_monitor: dict[int, list[ProbeResult]] = defaultdict(list)
    for monitor_id, result in items:
        by_monitor[monitor_id].append(result)
    driver = BatchDriver(connection)
    states = load_states(driver, list(by_monitor))
    monitors = load_monitors(driver, list(by_monitor))
    windows = load_windows(connection)
    time, to_json = driver.time, driver.json
    result_rows: list[tuple] = []
    changes: list[dict] = []
    increments: dict[int, dict[RollupKey, Rollup]] = {}
    certificates: dict[int, tuple[dict, datetime]] = {}
    watched = rules.watched(connection, by_monitor) if rules is not None else {}
    seen: dict[int, list[Seen]] = {}
    if watched:
        assert rules is not None
        rules.read_back(driver, watched,
                        {m: min(map(_checked_at, by_monitor[m])) for m in watched},
                        lambda m, at: _in_maintenance(windows, monitors[m], at)
                        if m in monitors else False)
    # Monitors without parents first: a child's outage then sees its parent's in this batch.
    for monitor_id, results in sorted(by_monitor.items(),
                                      key=lambda item: _has_parents(monitors.get(item[0]))):
        state = states.get(monitor_id)
        monitor = monitors.get(monitor_id)
        if state is None or monitor is None:  # deleted while its check was in flight
            continue
        results.sort(key=_checked_at)
        table = increments[monitor_id] = {}
        notable = _fold_results(
            state, results, (limits or {}).get(monitor_id, DEFAULT_THRESHOLDS), tz,
            partial(_in_maintenance, windows, monitor) if windows else None, table,
            seen.setdefault(monitor_id, []) if monitor_id in watched else None,
        )
        result_rows += [
            (monitor_id, time(r.checked_at), r.outcome, r.latency_ms, r.http_status, r.reason,
             to_json(r.phases)) for r in results]
        for result, transition, state_after in notable:
            if result.tls:
                certificates[monitor_id] = (result.tls, result.checked_at)
            if transition is not None:
                change = _change_row(monitor_id, transition)
                parents = parents_of(monitor)
                if change["from_state"] == "down":
                    change["incident_id"] = close_incident(connection, change, monitor)
                    if parents and change["incident_id"] is None and outage_was_blocked(
                            connection, monitor_id):
                        change["dispatched_at"] = transition.at  # its outage paged nobody
                blocker = find_blocker(connection, parents, states) if (
                    parents and change["to_state"] == "down") else None
                if blocker is not None:
                    _blocked(connection, change, state, monitor, blocker)
                elif change["to_state"] == "down":
                    change["incident_id"] = open_incident(connection, change, monitor)
                changes.append(change)
            if result.tls and state_after != "maintenance":
                warning = certificate_warning(connection, monitor_id, result, state_after)
                if warning:
                    changes.append(warning)
    if not result_rows:
        return Recorded(0, [])
    insert_results(driver, result_rows)
    update_states(driver, [states[m] for m in increments])
    if changes:
        connection.execute(insert(CHANGES), changes)
    write_rollups(driver, *merged_rollup_rows(driver, increments))
    remember_certificates(connection, certificates)
    if seen:
        assert rules is not None
        changes += rules.judge(connection, driver, watched, seen, states)
        changes += rules.judge_periods(connection, watched, seen, tz)
    return Recorded(len(result_rows), changes)
