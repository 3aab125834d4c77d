"""What a scheduled report says about one period, from the numbers the other reports use.

Uptime, downtime and p50/p95/p99 per monitor are `storage.window_report.window_report`'s (the
SLA report's); incidents, MTTA and MTTR are `storage.incident_times` read through
`analytics.incident_times` (the Response times section's). Nothing is defined again here.

The content is plain JSON (kept with the report, so every channel and every retry renders the
same numbers); `ReportContent.from_json` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from analytics.incident_times import grouped, summarize
from domain.report_schedule import PERIOD_LABELS, ReportPeriod
from storage.db import read_connection
from storage.export import to_csv
from storage.incident_times import incident_times_between
from storage.models import Monitor
from storage.tables import table_of
from storage.window_report import window_report

MONITORS = table_of(Monitor)
WORST_SHOWN = 5

CSV_COLUMNS = ("monitor", "name", "period", "uptime_percent", "target_percent", "meets_target",
               "downtime_minutes", "checks", "failures", "incidents", "mtta_seconds",
               "mttr_seconds", "p50_ms", "p95_ms", "p99_ms")


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class MonitorLine:
    """One monitor over the period."""

    slug: str
    name: str
    uptime_percent: float | None  # None: no check observed in the period
    downtime_minutes: float
    checks: int
    failures: int
    incidents: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    def meets(self, target_percent: float) -> bool | None:
        return None if self.uptime_percent is None else self.uptime_percent >= target_percent


@dataclass(frozen=True, slots=True)
class ReportContent:
    schedule: str
    period: str  # daily | weekly | monthly
    label: str  # "2026-W13"
    start: str  # ISO-8601, UTC
    end: str
    timezone: str
    target_percent: float
    incidents: int
    acknowledged: int
    resolved: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    monitors: list[MonitorLine] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{PERIOD_LABELS.get(self.period, self.period)} report {self.label}"

    @property
    def observed(self) -> list[MonitorLine]:
        return [line for line in self.monitors if line.uptime_percent is not None]

    @property
    def meeting_target(self) -> int:
        return sum(1 for line in self.observed if line.meets(self.target_percent))

    @property
    def worst(self) -> list[MonitorLine]:
        """The monitors with the lowest uptime (those below 100 % only), most downtime first."""
        below = [line for line in self.observed if (line.uptime_percent or 0) < 100]
        below.sort(key=lambda line: (line.uptime_percent, -line.downtime_minutes, line.name))
        return below[:WORST_SHOWN]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> ReportContent:
        lines = [MonitorLine(**line) for line in stored.get("monitors", [])]
        return cls(**{**stored, "monitors": lines})

    def csv(self) -> str:
        """One row per monitor; the cells a spreadsheet would run as formulas are kept text."""
        return to_csv(({
            "monitor": line.slug, "name": line.name, "period": self.label,
            "uptime_percent": line.uptime_percent, "target_percent": self.target_percent,
            "meets_target": {True: "yes", False: "no", None: ""}[line.meets(self.target_percent)],
            "downtime_minutes": line.downtime_minutes, "checks": line.checks,
            "failures": line.failures, "incidents": line.incidents,
            "mtta_seconds": line.mtta_seconds, "mttr_seconds": line.mttr_seconds,
            "p50_ms": line.p50_ms, "p95_ms": line.p95_ms, "p99_ms": line.p99_ms,
        } for line in self.monitors), CSV_COLUMNS)


def build_report(schedule_name: str, period: ReportPeriod, timezone: str,
                 target_percent: float, now: datetime | None = None) -> ReportContent:
    """Every monitor's numbers over `period` (by name), and the period's incidents."""
    now = now or datetime.now(UTC)
    end = min(period.end, now)
    with read_connection() as connection:
        monitors = connection.execute(
            select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.name).order_by(MONITORS.c.name)
        ).all()
    times = incident_times_between(period.start, period.end, now)
    overall = summarize(times.incidents, times.maintenance, now)
    by_monitor = {row.key: row.times
                  for row in grouped(times.incidents, times.maintenance, "monitor", now)}
    lines = []
    for monitor_id, slug, name in monitors:
        report = window_report(monitor_id, period.start, end, now=now) if end > period.start \
            else None
        response = by_monitor.get(slug)
        uptime = report.uptime if report is not None else None
        lines.append(MonitorLine(
            slug, name, _rounded(uptime * 100 if uptime is not None else None, 4),
            round(report.downtime_minutes, 2) if report else 0.0,
            report.checks if report else 0, report.failures if report else 0,
            response.incidents if response else 0,
            _rounded(response.mtta_mean if response else None, 1),
            _rounded(response.mttr_mean if response else None, 1),
            _rounded(report.p50 if report else None, 2),
            _rounded(report.p95 if report else None, 2),
            _rounded(report.p99 if report else None, 2),
        ))
    return ReportContent(
        schedule_name, period.kind, period.label, period.start.isoformat(),
        period.end.isoformat(), timezone, target_percent, overall.incidents,
        overall.acknowledged, overall.resolved, _rounded(overall.mtta_mean, 1),
        _rounded(overall.mttr_mean, 1), lines,
    )
