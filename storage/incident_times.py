"""The incidents opened in a range, with their monitor's group, and the maintenance that covered
their monitors: what MTTA / MTTR are computed from (`analytics/incident_times.py`).

Two statements, whatever the range: the incidents joined to their monitors, then the maintenance
windows. Recurring windows are expanded by storage/maintenance, the rule the recorder uses, over
the span from the first opening to the last acknowledgement or resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import select

from analytics.incident_times import (
    IncidentTimes,
    Interval,
    Period,
    ResponseTimes,
    merged,
    summarize,
)
from storage.db import read_connection
from storage.export import month_spans
from storage.maintenance import occurrences, windows_between
from storage.models import Incident, MaintenanceWindow, Monitor, as_utc
from storage.tables import table_of, utc

INCIDENTS = table_of(Incident)
MONITORS = table_of(Monitor)
WINDOWS = table_of(MaintenanceWindow)
# A zero-length span (resolved at its opening) still asks whether that moment was maintenance.
ONE_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class IncidentTimesRead:
    incidents: list[IncidentTimes]
    maintenance: dict[int, list[Interval]] = field(default_factory=dict)  # by monitor id


def _span_end(incident: IncidentTimes, now: datetime) -> datetime:
    # An open incident's span runs until now (to tell whether it lies wholly inside maintenance).
    last = incident.resolved if incident.resolved is not None else now
    if incident.acknowledged is not None:
        last = max(last, incident.acknowledged)
    return max(last, incident.opened)


def _maintenance_by_monitor(incidents: Sequence[IncidentTimes],
                            now: datetime) -> dict[int, list[Interval]]:
    """Each monitor's maintenance occurrences over its incidents' spans (expanded per span, not
    over the whole range: a frequent cron over a year would pass the expansion's cap)."""
    spans: dict[tuple[int, str | None], list[Interval]] = {}
    for incident in incidents:
        if incident.monitor_id is not None:
            spans.setdefault((incident.monitor_id, incident.group), []).append(
                (incident.opened, _span_end(incident, now)))
    if not spans:
        return {}
    everything = [span for own in spans.values() for span in own]
    with read_connection() as connection:
        windows = windows_between(connection, min(s for s, _ in everything),
                                  max(e for _, e in everything))
    found: dict[int, list[Interval]] = {}
    for (monitor_id, group), own in spans.items():
        covering = merged((begins, max(ends, begins + ONE_TICK)) for begins, ends in own)
        found[monitor_id] = sorted({
            occurrence for window in windows if window.applies_to(monitor_id, group)
            for begins, ends in covering for occurrence in occurrences(window, begins, ends)})
    return found


def incident_times_between(start: datetime, end: datetime, now: datetime | None = None,
                           monitor_id: int | None = None) -> IncidentTimesRead:
    """The incidents opened in [start, end) (oldest first; only `monitor_id`'s when given), each
    with its monitor's slug, name and group (None for one without a monitor), and their
    monitors' maintenance, by monitor id, over each incident's span (until `now` for one still
    open)."""
    now = now or datetime.now(UTC)
    where = [INCIDENTS.c.started_at >= start.astimezone(UTC),
             INCIDENTS.c.started_at < end.astimezone(UTC)]  # SQLite compares UTC text
    if monitor_id is not None:
        where.append(INCIDENTS.c.monitor_id == monitor_id)
    with read_connection() as connection:
        rows = connection.execute(
            select(INCIDENTS.c.started_at, INCIDENTS.c.acknowledged_at, INCIDENTS.c.resolved_at,
                   INCIDENTS.c.severity, INCIDENTS.c.monitor_id, MONITORS.c.slug,
                   MONITORS.c.name, MONITORS.c.group_name)
            .select_from(INCIDENTS.outerjoin(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id))
            .where(*where)
            .order_by(INCIDENTS.c.started_at, INCIDENTS.c.id)
        ).all()
    incidents = [
        IncidentTimes(utc(r.started_at), as_utc(r.acknowledged_at), as_utc(r.resolved_at),
                      r.monitor_id, r.slug, r.name, r.group_name or None, r.severity)
        for r in rows
    ]
    return IncidentTimesRead(incidents, _maintenance_by_monitor(incidents, now))


def monitor_response_times(monitor_id: int, start: datetime, end: datetime,
                           now: datetime) -> ResponseTimes:
    """MTTA and MTTR of one monitor's incidents opened in [start, end), as the reports count
    them (maintenance excluded)."""
    read = incident_times_between(start, end, now, monitor_id=monitor_id)
    return summarize(read.incidents, read.maintenance, now)


def month_periods(start: datetime, end: datetime, zone: tzinfo) -> list[Period]:
    """The calendar months (in `zone`) that [start, end) touches, each clipped to it; the
    months are storage/export's, the SLA report's. ValueError for a range month_spans refuses."""
    if end <= start:
        return []
    first = start.astimezone(zone).date()
    last = (end - ONE_TICK).astimezone(zone).date()
    return [Period(span.label, max(span.start, start), min(span.end, end))
            for span in month_spans(first, last, zone)]
