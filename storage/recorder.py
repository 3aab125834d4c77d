"""Recording check results in batches: one transaction writes the results, the monitors' states,
the state changes they caused and the hourly and daily rollups.

Batching is what lets thousands of monitors be recorded without the database slowing probing;
keeping everything in one transaction is what keeps rollups equal to the raw results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from operator import attrgetter
from typing import cast, overload

import orjson
from sqlalchemy import Connection, insert, select, update

from analytics.histogram_blobs import add_into_serialized
from analytics.rollup import Rollup, RollupKey, TimelinePoint
from analytics.rollup_folding import RollupFolder
from domain.certificates import notices_due
from domain.decide import DEFAULT_THRESHOLDS, StateSnapshot, Thresholds, Transition, decide
from domain.formatting import format_duration
from domain.result import ProbeResult
from storage.alerting_models import CertificateWarning
from storage.maintenance import WindowSpec, load_windows, monitors_covered
from storage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    RollupRow,
    StateChange,
    as_utc,
)
from storage.pg_copy import copy_insert, copy_update
from storage.tables import table_of, utc

_checked_at = attrgetter("checked_at")
RESULTS = table_of(CheckResult)
CHANGES = table_of(StateChange)
ROLLUPS = table_of(RollupRow)
INCIDENTS = table_of(Incident)
INCIDENT_UPDATES = table_of(IncidentUpdate)
CERT_WARNINGS = table_of(CertificateWarning)
ROLLUP_VALUES = ("bucket_end", "up_s", "degraded_s", "down_s", "maintenance_s", "checks",
                 "failures", "histogram", "min_ms", "max_ms")


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a batch changed: monitors whose state moved, for dispatch and read models."""

    results: int
    changes: list[dict]


def _fold_results(
    state: dict, results: list[ProbeResult], limits: Thresholds, tz: tzinfo,
    maintenance: Callable[[datetime], bool] | None, table: dict[RollupKey, Rollup],
) -> list[tuple[ProbeResult, Transition | None, str]]:
    """Advance one monitor's state through its results (in time order), folding each into its
    rollup increments (`table`); `maintenance` is None when no window exists.

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


class _Driver:
    """Statements and parameters as the DBAPI driver takes them.

    The hot statements (results, states, rollups: thousands of rows per batch) skip SQLAlchemy's
    per-row parameter processing, which cost more than the database itself. Values are written
    exactly as SQLAlchemy would write them: on SQLite a time is its wall-clock text without the
    offset (UTC for results and hours, the local zone for days), JSON is compact JSON text.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._bucket_times: dict[tuple, datetime | str] = {}

    @overload
    def time(self, value: datetime) -> datetime | str: ...
    @overload
    def time(self, value: None) -> None: ...
    def time(self, value: datetime | None) -> datetime | str | None:
        if value is None or not self.sqlite:
            return value
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def bucket_time(self, value: datetime) -> datetime | str:
        """`time` of a bucket edge: the same few edges recur for every monitor in a batch."""
        # Keyed with the offset: an hour (UTC) and a day (local) may be the same instant, but
        # SQLite stores each as its own wall-clock text.
        key = (value, value.utcoffset())
        stored = self._bucket_times.get(key)
        if stored is None:
            stored = self._bucket_times[key] = self.time(value)
        return stored

    def read_time(self, value: datetime | str | None) -> datetime | None:
        """A stored UTC time as an aware datetime (SQLite gives back its text)."""
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return as_utc(value)

    @staticmethod
    def json(value: object) -> str:
        # orjson: a result's six timing phases in 0.4 us, where json.dumps took 5 us (a sixth of
        # a batch's time). Not-a-number becomes null, which JSON can hold.
        return orjson.dumps(value).decode()

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def in_lists(self, values: list, chunk: int = 500) -> list[tuple[tuple, str]]:
        """`values` as (parameters, "IN (...)" condition) pieces a statement can take.

        PostgreSQL takes one array (`= ANY`): one parameter to send, one query to parse. SQLite
        takes plain IN lists of up to `chunk` values, which use the primary key index.
        """
        if not self.sqlite:
            return [((list(values),), "= ANY(%s)")]
        pieces = [values[i:i + chunk] for i in range(0, len(values), chunk)]
        return [(tuple(piece), f"IN ({self.marks(len(piece))})") for piece in pieces]

    def executemany(self, statement: str, rows: list[tuple]) -> None:
        if rows:
            self.connection.exec_driver_sql(statement, rows)

    def rows(self, statement: str, parameters: tuple) -> list[tuple]:
        # Rows are tuples already; no copy on this hot path.
        return cast(list[tuple], self.connection.exec_driver_sql(statement, parameters).fetchall())


_RESULT_COLUMNS = ("monitor_id", "checked_at", "outcome", "latency_ms", "http_status", "reason",
                   "phases")
_STATE_COLUMNS = ("state", "reason", "since", "last_check_at", "last_latency_ms",
                  "consecutive_failures", "consecutive_successes", "cert_not_after")
_ROLLUP_KEYS = ("monitor_id", "period", "bucket_start")
_ROLLUP_COLUMNS = (*_ROLLUP_KEYS, *ROLLUP_VALUES)


def _insert_results(driver: _Driver, rows: list[tuple]) -> None:
    if not driver.sqlite:
        copy_insert(driver.connection, "check_result", _RESULT_COLUMNS, rows)
        return
    driver.executemany(
        f"INSERT INTO check_result ({', '.join(_RESULT_COLUMNS)}) "
        f"VALUES ({driver.marks(len(_RESULT_COLUMNS))})", rows)


def _by_id(driver: _Driver, table: str, key: str, columns: tuple[str, ...],
           ids: list[int]) -> dict[int, dict]:
    """Rows of `table` whose `key` is in `ids`, as dicts by that key."""
    found: dict[int, dict] = {}
    for chunk, condition in driver.in_lists(ids):
        for row in driver.rows(
            f"SELECT {key}, {', '.join(columns)} FROM {table} WHERE {key} {condition}", chunk,
        ):
            found[row[0]] = dict(zip(columns, row[1:], strict=True))
    return found


def _load_states(driver: _Driver, monitor_ids: list[int]) -> dict[int, dict]:
    states = _by_id(driver, "monitor_state", "monitor_id", _STATE_COLUMNS, monitor_ids)
    read_time = driver.read_time
    for monitor_id, state in states.items():
        state["monitor_id"] = monitor_id
        for name in ("since", "last_check_at", "cert_not_after"):
            state[name] = read_time(state[name])
    return states


def _load_monitors(driver: _Driver, monitor_ids: list[int]) -> dict[int, dict]:
    monitors = _by_id(driver, "monitor", "id", ("name", "group_name", "public"), monitor_ids)
    for monitor_id, monitor in monitors.items():
        monitor["id"] = monitor_id
        monitor["public"] = bool(monitor["public"])
    return monitors


def _update_states(driver: _Driver, states: list[dict]) -> None:
    time = driver.time
    rows = [(s["state"], s["reason"], time(s["since"]), time(s["last_check_at"]),
             s["last_latency_ms"], s["consecutive_failures"], s["consecutive_successes"],
             time(s["cert_not_after"]), s["monitor_id"]) for s in states]
    if not driver.sqlite:
        copy_update(driver.connection, "monitor_state", ("monitor_id",),
                    (*_STATE_COLUMNS, "monitor_id"), rows)
        return
    assignments = ", ".join(f"{name} = {driver.mark}" for name in _STATE_COLUMNS)
    driver.executemany(
        f"UPDATE monitor_state SET {assignments} WHERE monitor_id = {driver.mark}", rows)


def _stored_rollups(
    driver: _Driver, increments: dict[int, dict[RollupKey, Rollup]]
) -> dict[tuple, tuple]:
    """The stored rows of the buckets this batch touches, by (monitor, period, stored start)."""
    wanted: dict[str, set] = defaultdict(set)
    for table in increments.values():
        for period, start in table:
            wanted[period].add(driver.bucket_time(start))
    stored: dict[tuple, tuple] = {}
    for period_name, starts in wanted.items():
        for chunk, in_monitors in driver.in_lists(list(increments)):
            times, in_times = driver.in_lists(sorted(starts), chunk=len(starts))[0]
            rows = driver.rows(
                "SELECT monitor_id, bucket_start, up_s, degraded_s, down_s, maintenance_s, "
                "checks, failures, histogram, min_ms, max_ms FROM rollup "
                f"WHERE period = {driver.mark} AND monitor_id {in_monitors} "
                f"AND bucket_start {in_times}",
                (period_name, *chunk, *times),
            )
            for monitor_id, start, *values in rows:
                stored[(monitor_id, period_name, start)] = tuple(values)
    return stored


def _merged_rollup_rows(
    driver: _Driver, increments: dict[int, dict[RollupKey, Rollup]]
) -> tuple[list[tuple], list[tuple]]:
    """This batch's increments added to the stored rows of the same buckets, ready to write:
    the rows of new buckets, and the rows of buckets already stored."""
    stored = _stored_rollups(driver, increments)
    bucket_time = driver.bucket_time
    new: list[tuple] = []
    changed: list[tuple] = []
    for monitor_id, table in increments.items():
        for (period, start), inc in table.items():
            stored_start = bucket_time(start)
            histogram = inc.histogram
            up, degraded, down, maintenance = (inc.up_s, inc.degraded_s, inc.down_s,
                                               inc.maintenance_s)
            checks, failures = inc.checks, inc.failures
            existing = stored.get((monitor_id, period, stored_start))
            rows = new if existing is None else changed
            if existing is None:
                blob, low, high = histogram.to_bytes(), histogram.min_ms, histogram.max_ms
            else:
                up += existing[0]
                degraded += existing[1]
                down += existing[2]
                maintenance += existing[3]
                checks += existing[4]
                failures += existing[5]
                blob, low, high = bytes(existing[6]), existing[7], existing[8]
                if histogram.count:  # else the stored histogram stands as it is
                    blob = add_into_serialized(blob, histogram)
                    low = histogram.min_ms if low is None else min(low, histogram.min_ms)
                    high = histogram.max_ms if high is None else max(high, histogram.max_ms)
            rows.append((monitor_id, period, stored_start, bucket_time(inc.bucket_end), up,
                         degraded, down, maintenance, checks, failures, blob, low, high))
    return new, changed


def _write_rollups(driver: _Driver, new: list[tuple], changed: list[tuple]) -> None:
    if not driver.sqlite:
        # A new bucket written meanwhile by another writer makes the COPY fail, and the batch
        # is retried from fresh reads: nothing is overwritten unseen.
        copy_insert(driver.connection, "rollup", _ROLLUP_COLUMNS, new)
        copy_update(driver.connection, "rollup", _ROLLUP_KEYS, _ROLLUP_COLUMNS, changed)
        return
    updates = ", ".join(f"{name} = excluded.{name}" for name in ROLLUP_VALUES)
    driver.executemany(
        f"INSERT INTO rollup ({', '.join(_ROLLUP_COLUMNS)}) "
        f"VALUES ({driver.marks(len(_ROLLUP_COLUMNS))}) "
        f"ON CONFLICT (monitor_id, period, bucket_start) DO UPDATE SET {updates}",
        new + changed,
    )


def _in_maintenance(windows: list[WindowSpec], monitor: dict, at: datetime) -> bool:
    return bool(windows) and bool(
        monitors_covered(windows, [(monitor["id"], monitor["group_name"])], at)
    )


def _open_incident(connection: Connection, change: dict, monitor: dict) -> int:
    name = monitor["name"]
    inserted = connection.execute(
        insert(INCIDENTS).values(
            monitor_id=change["monitor_id"], title=f"{name} is down", status="investigating",
            cause=change["reason"], started_at=change["at"], public=monitor["public"],
        )
    ).inserted_primary_key
    assert inserted is not None  # a single-row insert always has its key
    incident_id = int(inserted[0])
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
    """A certificate event when a new notice threshold (domain.certificates.NOTICE_DAYS) was
    crossed for this certificate; each threshold is recorded so that it is sent once."""
    tls = result.tls or {}
    try:
        days_left = int(tls["days_left"])  # type: ignore[call-overload]
        not_after = str(tls["not_after"])
    except (KeyError, TypeError, ValueError):
        return None
    crossed = notices_due(days_left)
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
    by_monitor: dict[int, list[ProbeResult]] = defaultdict(list)
    for monitor_id, result in items:
        by_monitor[monitor_id].append(result)
    driver = _Driver(connection)
    states = _load_states(driver, list(by_monitor))
    monitors = _load_monitors(driver, list(by_monitor))
    windows = load_windows(connection)
    time, to_json = driver.time, driver.json
    result_rows: list[tuple] = []
    changes: list[dict] = []
    increments: dict[int, dict[RollupKey, Rollup]] = {}
    for monitor_id, results in by_monitor.items():
        state = states.get(monitor_id)
        monitor = monitors.get(monitor_id)
        if state is None or monitor is None:  # deleted while its check was in flight
            continue
        results.sort(key=_checked_at)
        table = increments[monitor_id] = {}
        notable = _fold_results(
            state, results, (limits or {}).get(monitor_id, DEFAULT_THRESHOLDS), tz,
            partial(_in_maintenance, windows, monitor) if windows else None, table,
        )
        result_rows += [
            (monitor_id, time(r.checked_at), r.outcome, r.latency_ms, r.http_status, r.reason,
             to_json(r.phases)) for r in results]
        for result, transition, state_after in notable:
            if transition is not None:
                change = _change_row(monitor_id, transition)
                if change["from_state"] == "down":
                    change["incident_id"] = _close_incident(connection, change, monitor)
                if change["to_state"] == "down":
                    change["incident_id"] = _open_incident(connection, change, monitor)
                changes.append(change)
            if result.tls and state_after != "maintenance":
                warning = _certificate_warning(connection, monitor_id, result, state_after)
                if warning:
                    changes.append(warning)
    if not result_rows:
        return Recorded(0, [])
    _insert_results(driver, result_rows)
    _update_states(driver, [states[m] for m in increments])
    if changes:
        connection.execute(insert(CHANGES), changes)
    _write_rollups(driver, *_merged_rollup_rows(driver, increments))
    return Recorded(len(result_rows), changes)
