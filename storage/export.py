"""Exports: a monitor's raw results, incidents, and the SLA report, as rows for CSV or JSON.

The SLA report has one row per monitor and calendar month (in the time zone asked for) of the
range: uptime, downtime minutes, incidents started, and p50/p95/p99 latency, all from
`storage.window_report.window_report` (exact time from rollups, percentiles from merged histograms).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select

from domain.limits import check_date
from storage.db import get_engine
from storage.models import CheckResult, Incident, Monitor, as_utc
from storage.tables import table_of, utc
from storage.window_report import window_report

RESULTS = table_of(CheckResult)
INCIDENTS = table_of(Incident)
MONITORS = table_of(Monitor)

RESULT_COLUMNS = ("checked_at", "outcome", "latency_ms", "http_status", "reason")
INCIDENT_COLUMNS = ("id", "monitor", "title", "status", "cause", "started_at", "resolved_at",
                    "duration_minutes")
SLA_COLUMNS = ("monitor", "name", "month", "uptime_percent", "downtime_minutes", "incidents",
               "p50_ms", "p95_ms", "p99_ms")


def _iso(moment: datetime | None) -> str | None:
    moment = as_utc(moment)
    return moment.isoformat() if moment is not None else None


def results_between(monitor_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The monitor's raw results in [start, end), oldest first (only while they are retained)."""
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(RESULTS.c.checked_at, RESULTS.c.outcome, RESULTS.c.latency_ms,
                   RESULTS.c.http_status, RESULTS.c.reason)
            .where(RESULTS.c.monitor_id == monitor_id, RESULTS.c.checked_at >= start,
                   RESULTS.c.checked_at < end)
            .order_by(RESULTS.c.checked_at, RESULTS.c.id)
        ).all()
    return [
        {"checked_at": _iso(at), "outcome": outcome, "latency_ms": latency,
         "http_status": status, "reason": reason}
        for at, outcome, latency, status, reason in rows
    ]


def incidents_between(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Incidents overlapping [start, end): started before its end, not resolved before its start."""
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(INCIDENTS.c.id, MONITORS.c.slug, INCIDENTS.c.title, INCIDENTS.c.status,
                   INCIDENTS.c.cause, INCIDENTS.c.started_at, INCIDENTS.c.resolved_at)
            .select_from(INCIDENTS.outerjoin(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id))
            .where(INCIDENTS.c.started_at < end.astimezone(UTC),
                   (INCIDENTS.c.resolved_at.is_(None))
                   | (INCIDENTS.c.resolved_at >= start.astimezone(UTC)))
            .order_by(INCIDENTS.c.started_at, INCIDENTS.c.id)
        ).all()
    answer = []
    for incident_id, slug, title, status, cause, started, resolved in rows:
        started, resolved = utc(started), as_utc(resolved)
        minutes = round((resolved - started).total_seconds() / 60, 2) if resolved else None
        answer.append({
            "id": incident_id, "monitor": slug, "title": title, "status": status,
            "cause": cause, "started_at": _iso(started), "resolved_at": _iso(resolved),
            "duration_minutes": minutes,
        })
    return answer


@dataclass(frozen=True, slots=True)
class MonthSpan:
    label: str  # "2026-03"
    start: datetime
    end: datetime


def month_spans(first: date, last: date, zone: tzinfo) -> list[MonthSpan]:
    """Calendar months from `first` to `last` (inclusive days) in `zone`, clipped to the range.

    ValueError for days outside `domain.limits`' EARLIEST_DATE..LATEST_DATE: near year 1 or
    9999 the next month, or the zone's offset, would leave the calendar.
    """
    check_date(first)
    check_date(last)
    spans = []
    day = first
    while day <= last:
        next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        until = min(next_month, last + timedelta(days=1))
        spans.append(MonthSpan(
            f"{day.year:04d}-{day.month:02d}",
            datetime.combine(day, time(0), tzinfo=zone),
            datetime.combine(until, time(0), tzinfo=zone),
        ))
        day = next_month
    return spans


def _percent(value: float | None) -> float | None:
    return round(value * 100, 4) if value is not None else None


def _ms(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def sla_report(
    first: date, last: date, zone: tzinfo, monitor_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per monitor and month of [first, last] (days in `zone`), by monitor name.

    Months (or their parts) after `now` are left out; ValueError for days month_spans refuses.
    """
    now = now or datetime.now(UTC)
    spans = month_spans(first, last, zone)
    with get_engine().connect() as connection:
        query = select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.name).order_by(MONITORS.c.name)
        if monitor_ids is not None:
            query = query.where(MONITORS.c.id.in_(monitor_ids))
        monitors = connection.execute(query).all()
        counts: dict[tuple[int, str], int] = {}
        for span in spans:
            for monitor_id, n in connection.execute(
                select(INCIDENTS.c.monitor_id, func.count())
                # In UTC: SQLite compares the stored UTC text, whatever zone a bound is in.
                .where(INCIDENTS.c.started_at >= span.start.astimezone(UTC),
                       INCIDENTS.c.started_at < span.end.astimezone(UTC))
                .group_by(INCIDENTS.c.monitor_id)
            ):
                counts[(monitor_id, span.label)] = n
    rows = []
    for monitor_id, slug, name in monitors:
        for span in spans:
            end = min(span.end, now)
            if end <= span.start:
                continue
            report = window_report(monitor_id, span.start, end, now=now)
            rows.append({
                "monitor": slug, "name": name, "month": span.label,
                "uptime_percent": _percent(report.uptime),
                "downtime_minutes": round(report.downtime_minutes, 2),
                "incidents": counts.get((monitor_id, span.label), 0),
                "p50_ms": _ms(report.p50), "p95_ms": _ms(report.p95), "p99_ms": _ms(report.p99),
            })
    return rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A spreadsheet would run it as a formula: a reason or title is text, keep it text.
        return "'" + value
    return value


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; empty cells for missing values."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def encode(rows: list[dict[str, Any]], columns: Sequence[str], fmt: str) -> tuple[bytes, str]:
    """The rows as a file: (content, media type) for "csv" or "json"."""
    if fmt == "csv":
        return to_csv(rows, columns).encode(), "text/csv"
    if fmt == "json":
        return json.dumps(rows).encode(), "application/json"
    raise ValueError(f"unknown format {fmt!r}: use csv or json")
