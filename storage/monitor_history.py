"""One monitor's history over [start, end), one statement per series, for its detail page.

Raw results (for short windows and the check log), hourly or daily rollup histograms (for long
windows), state changes, maintenance (every occurrence of a recurring window) and incidents.
Shaping them (percentiles per bucket, MTTA / MTTR) is pure and lives in
`analytics/monitor_series.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from storage.db import read_connection
from storage.maintenance import occurrences, windows_between
from storage.models import (
    CheckResult,
    Incident,
    MaintenanceWindow,
    RollupRow,
    StateChange,
    as_utc,
)
from storage.tables import table_of

RESULTS = table_of(CheckResult)
ROLLUPS = table_of(RollupRow)
CHANGES = table_of(StateChange)
INCIDENTS = table_of(Incident)
WINDOWS = table_of(MaintenanceWindow)


@dataclass(frozen=True, slots=True)
class RawResult:
    checked_at: datetime
    outcome: str
    latency_ms: float | None
    phases: dict[str, float]
    reason: str | None
    http_status: int | None


@dataclass(frozen=True, slots=True)
class RollupBucket:
    start: datetime
    end: datetime
    checks: int
    failures: int
    histogram: bytes


@dataclass(frozen=True, slots=True)
class Change:
    at: datetime
    from_state: str
    to_state: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Maintenance:
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    title: str
    status: str
    cause: str | None
    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


def _utc(moment: datetime) -> datetime:
    value = as_utc(moment)
    assert value is not None
    return value


def _raw(row: Any) -> RawResult:
    return RawResult(_utc(row.checked_at), row.outcome, row.latency_ms, dict(row.phases or {}),
                     row.reason, row.http_status)


def _result_columns() -> list[Any]:
    return [RESULTS.c.checked_at, RESULTS.c.outcome, RESULTS.c.latency_ms, RESULTS.c.phases,
            RESULTS.c.reason, RESULTS.c.http_status]


def _result_filter(monitor_id: int, start: datetime, end: datetime,
                   failures_only: bool) -> list[Any]:
    where = [RESULTS.c.monitor_id == monitor_id, RESULTS.c.checked_at >= start,
             RESULTS.c.checked_at < end]
    if failures_only:
        where.append(RESULTS.c.outcome.notin_(("up", "degraded")))
    return where


def raw_results_between(monitor_id: int, start: datetime, end: datetime) -> list[RawResult]:
    """The monitor's raw results in [start, end), oldest first: one statement."""
    with read_connection() as connection:
        rows = connection.execute(
            select(*_result_columns())
            .where(*_result_filter(monitor_id, start, end, False))
            .order_by(RESULTS.c.checked_at, RESULTS.c.id)
        ).all()
    return [_raw(row) for row in rows]


def count_results_between(monitor_id: int, start: datetime, end: datetime,
                          failures_only: bool = False) -> int:
    with read_connection() as connection:
        return int(connection.execute(
            select(func.count()).select_from(RESULTS)
            .where(*_result_filter(monitor_id, start, end, failures_only))
        ).scalar_one())


def results_page(monitor_id: int, start: datetime, end: datetime, page: int, per_page: int,
                 failures_only: bool = False) -> list[RawResult]:
    """One page (1-based) of the check log, newest first, paginated in SQL."""
    with read_connection() as connection:
        rows = connection.execute(
            select(*_result_columns())
            .where(*_result_filter(monitor_id, start, end, failures_only))
            .order_by(RESULTS.c.checked_at.desc(), RESULTS.c.id.desc())
            .limit(per_page).offset(max(0, page - 1) * per_page)
        ).all()
    return [_raw(row) for row in rows]


@dataclass(frozen=True, slots=True)
class ResultKey:
    """Where a page of results ended: the last result's time and id (the next page starts
    after it, so results recorded meanwhile neither shift nor repeat what comes next)."""

    checked_at: datetime
    id: int


def results_before(monitor_id: int, start: datetime, end: datetime, limit: int,
                   after: ResultKey | None = None, failures_only: bool = False,
                   ) -> tuple[list[RawResult], ResultKey | None]:
    """Up to `limit` of the monitor's results in [start, end), newest first, those after
    `after` in that order; and the key to ask for the next page with (None: no more)."""
    where = _result_filter(monitor_id, start, end, failures_only)
    if after is not None:
        where.append(or_(RESULTS.c.checked_at < after.checked_at,
                         and_(RESULTS.c.checked_at == after.checked_at,
                              RESULTS.c.id < after.id)))
    with read_connection() as connection:
        rows = connection.execute(
            select(*_result_columns(), RESULTS.c.id).where(*where)
            .order_by(RESULTS.c.checked_at.desc(), RESULTS.c.id.desc())
            .limit(limit + 1)
        ).all()
    shown = rows[:limit]
    more = len(rows) > limit
    return ([_raw(row) for row in shown],
            ResultKey(_utc(shown[-1].checked_at), shown[-1].id) if more else None)


def rollups_between(monitor_id: int, period: str, start: datetime,
                    end: datetime) -> list[RollupBucket]:
    """Hourly ("hour") or daily ("day") rollups overlapping [start, end), oldest first."""
    with read_connection() as connection:
        rows = connection.execute(
            select(ROLLUPS.c.bucket_start, ROLLUPS.c.bucket_end, ROLLUPS.c.checks,
                   ROLLUPS.c.failures, ROLLUPS.c.histogram)
            .where(ROLLUPS.c.monitor_id == monitor_id, ROLLUPS.c.period == period,
                   ROLLUPS.c.bucket_end > start, ROLLUPS.c.bucket_start < end)
            .order_by(ROLLUPS.c.bucket_start)
        ).all()
    return [RollupBucket(_utc(r.bucket_start), _utc(r.bucket_end), r.checks, r.failures,
                         bytes(r.histogram or b"")) for r in rows]


def state_changes_between(monitor_id: int, start: datetime, end: datetime) -> list[Change]:
    """State changes (not other events) in [start, end), newest first."""
    with read_connection() as connection:
        rows = connection.execute(
            select(CHANGES.c.at, CHANGES.c.from_state, CHANGES.c.to_state, CHANGES.c.reason)
            .where(CHANGES.c.monitor_id == monitor_id, CHANGES.c.kind == "state",
                   CHANGES.c.at >= start, CHANGES.c.at < end)
            .order_by(CHANGES.c.at.desc(), CHANGES.c.id.desc())
        ).all()
    return [Change(_utc(r.at), r.from_state, r.to_state, r.reason) for r in rows]


def maintenance_between(monitor_id: int, group_name: str | None, start: datetime,
                        end: datetime) -> list[Maintenance]:
    """Maintenance covering this monitor (its own, its group's, or everyone's) in the range:
    one-off windows overlapping it and every occurrence of a recurring one inside it, in time
    order. Recurring windows are expanded by storage/maintenance, the rule the recorder uses."""
    with read_connection() as connection:
        windows = windows_between(connection, start, end)
    found = [Maintenance(window.title, begins, ends)
             for window in windows if window.applies_to(monitor_id, group_name)
             for begins, ends in occurrences(window, start, end)]
    return sorted(found, key=lambda m: (m.starts_at, m.ends_at, m.title))


def incidents_between(monitor_id: int, start: datetime, end: datetime) -> list[IncidentRow]:
    """The monitor's incidents overlapping [start, end), newest first."""
    with read_connection() as connection:
        rows = connection.execute(
            select(INCIDENTS.c.id, INCIDENTS.c.title, INCIDENTS.c.status, INCIDENTS.c.cause,
                   INCIDENTS.c.started_at, INCIDENTS.c.acknowledged_at, INCIDENTS.c.resolved_at)
            .where(INCIDENTS.c.monitor_id == monitor_id, INCIDENTS.c.started_at < end,
                   or_(INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.resolved_at >= start))
            .order_by(INCIDENTS.c.started_at.desc(), INCIDENTS.c.id.desc())
        ).all()
    return [IncidentRow(r.id, r.title, r.status, r.cause, _utc(r.started_at),
                        as_utc(r.acknowledged_at), as_utc(r.resolved_at)) for r in rows]
