"""MTTA and MTTR: how long incidents took to be acknowledged and resolved (pure).

The definitions, written once (the Reports page, GET /api/v1/reports/response-times and a
monitor's page read them from here):

- **MTTA** (mean time to acknowledge): from an incident's opening to its first acknowledgement
  (the incident keeps the first one: later acknowledgements do not move it).
- **MTTR** (mean time to resolve): from an incident's opening to its resolution.
- **Maintenance is excluded**: the time an incident spent inside a maintenance window of its
  monitor (the monitor's own, its group's, or one for every monitor; overlapping windows count
  once) is subtracted from its open -> acknowledge and open -> resolve spans. An incident whose
  whole span (open -> resolve, or open -> now while it is still open) lies inside maintenance is
  not counted at all: `in_maintenance` says how many were left out. An incident without a
  monitor has no maintenance.
- An incident counts in the range, or the calendar month, in which it **opened**, even when it
  was acknowledged or resolved after the range ended.
- Incidents never acknowledged (resolved or not) are left out of the MTTA figures and counted in
  `unacknowledged`; incidents not resolved yet are left out of the MTTR figures and counted in
  `still_open`. An acknowledgement or resolution stamped before the opening (a clock set back)
  counts as zero.

Besides the mean, each figure has its median and how many incidents it was taken over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from statistics import median
from typing import Literal

from domain.severity import SEVERITIES, severity_label

Interval = tuple[datetime, datetime]  # [starts, ends)
Grouping = Literal["monitor", "group", "severity"]
GROUPINGS: tuple[Grouping, ...] = ("monitor", "group", "severity")

# The longest range read at once: a little over a year, this year's months beside last year's.
MAX_RANGE_DAYS = 400

NO_MONITOR = "No monitor"
NO_GROUP = "Ungrouped"
NO_SEVERITY = "Not set"


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    """One incident's moments and what it is grouped by."""

    opened: datetime
    acknowledged: datetime | None
    resolved: datetime | None
    monitor_id: int | None = None
    monitor: str | None = None  # the monitor's slug
    monitor_name: str | None = None
    group: str | None = None
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """MTTA and MTTR over some incidents, in seconds (None: no incident to take them over)."""

    incidents: int  # counted (those wholly inside maintenance are not)
    acknowledged: int
    unacknowledged: int
    resolved: int
    still_open: int
    in_maintenance: int
    mtta_mean: float | None
    mtta_median: float | None
    mttr_mean: float | None
    mttr_median: float | None

    def to_api(self) -> dict[str, float | int | None]:
        def rounded(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds, 1)

        return {
            "incidents": self.incidents, "acknowledged": self.acknowledged,
            "unacknowledged": self.unacknowledged, "resolved": self.resolved,
            "still_open": self.still_open, "in_maintenance": self.in_maintenance,
            "mtta_seconds": rounded(self.mtta_mean),
            "mtta_median_seconds": rounded(self.mtta_median),
            "mttr_seconds": rounded(self.mttr_mean),
            "mttr_median_seconds": rounded(self.mttr_median),
        }


@dataclass(frozen=True, slots=True)
class GroupTimes:
    key: str  # the slug, group name or severity ("" for none)
    label: str
    times: ResponseTimes


@dataclass(frozen=True, slots=True)
class Period:
    """A range [start, end) with a name ("2026-03" for a calendar month)."""

    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class PeriodTimes:
    period: Period
    overall: ResponseTimes
    groups: list[GroupTimes]


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals in time order, overlapping or touching ones joined."""
    joined: list[Interval] = []
    for starts, ends in sorted(intervals):
        if ends <= starts:
            continue
        if joined and starts <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], ends))
        else:
            joined.append((starts, ends))
    return joined


def _overlap(start: datetime, end: datetime, intervals: Sequence[Interval]) -> timedelta:
    total = timedelta(0)
    for starts, ends in intervals:
        if starts < end and ends > start:
            total += min(ends, end) - max(starts, start)
    return total


def _span_seconds(opened: datetime, until: datetime, maintenance: Sequence[Interval]) -> float:
    if until <= opened:
        return 0.0
    return max(0.0, ((until - opened) - _overlap(opened, until, maintenance)).total_seconds())


def _inside(opened: datetime, until: datetime, maintenance: Sequence[Interval]) -> bool:
    return any(starts <= opened < ends and until <= ends for starts, ends in maintenance)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _median(values: Sequence[float]) -> float | None:
    return float(median(values)) if values else None


def summarize(
    incidents: Iterable[IncidentTimes], maintenance: Mapping[int, Sequence[Interval]],
    now: datetime,
) -> ResponseTimes:
    """MTTA and MTTR over `incidents` (see the module's definitions). `maintenance` holds each
    monitor's maintenance intervals by monitor id, in any order; `now` ends the span of an
    incident still open (to tell whether it lies wholly inside maintenance)."""
    joined: dict[int, list[Interval]] = {}
    acks: list[float] = []
    fixes: list[float] = []
    counted = unacknowledged = still_open = in_maintenance = 0
    for incident in incidents:
        own: Sequence[Interval] = ()
        if incident.monitor_id is not None:
            if incident.monitor_id not in joined:
                joined[incident.monitor_id] = merged(maintenance.get(incident.monitor_id, ()))
            own = joined[incident.monitor_id]
        until = incident.resolved if incident.resolved is not None else max(now, incident.opened)
        if _inside(incident.opened, until, own):
            in_maintenance += 1
            continue
        counted += 1
        if incident.acknowledged is None:
            unacknowledged += 1
        else:
            acks.append(_span_seconds(incident.opened, incident.acknowledged, own))
        if incident.resolved is None:
            still_open += 1
        else:
            fixes.append(_span_seconds(incident.opened, incident.resolved, own))
    return ResponseTimes(
        counted, len(acks), unacknowledged, len(fixes), still_open, in_maintenance,
        _mean(acks), _median(acks), _mean(fixes), _median(fixes),
    )


def _key_and_label(incident: IncidentTimes, by: Grouping) -> tuple[str, str]:
    if by == "monitor":
        if incident.monitor is None:
            return "", NO_MONITOR
        return incident.monitor, incident.monitor_name or incident.monitor
    if by == "group":
        return (incident.group, incident.group) if incident.group else ("", NO_GROUP)
    if incident.severity is None:
        return "", NO_SEVERITY
    return incident.severity, severity_label(incident.severity)


def _order(group: GroupTimes, by: Grouping) -> tuple[bool, int, str]:
    """Rows without a monitor, group or severity last; severities by rank, P1 first."""
    if by == "severity":
        rank = SEVERITIES.index(group.key) if group.key in SEVERITIES else len(SEVERITIES)
        return group.key == "", rank, group.key
    return group.key == "", 0, group.label.casefold()


def grouped(
    incidents: Iterable[IncidentTimes], maintenance: Mapping[int, Sequence[Interval]],
    by: Grouping, now: datetime,
) -> list[GroupTimes]:
    """One row per monitor, group or severity that opened an incident: severities from P1 to
    P4, the others by name; the row of incidents without one ("No monitor", "Ungrouped", "Not
    set") last."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {by!r}")
    buckets: dict[str, tuple[str, list[IncidentTimes]]] = {}
    for incident in incidents:
        key, label = _key_and_label(incident, by)
        buckets.setdefault(key, (label, []))[1].append(incident)
    rows = [GroupTimes(key, label, summarize(members, maintenance, now))
            for key, (label, members) in buckets.items()]
    return sorted(rows, key=lambda row: _order(row, by))


def calendar_month(now: datetime, zone: tzinfo, back: int = 0) -> tuple[datetime, datetime]:
    """[the first of the month, the first of the next) in `zone`: this month, or the month
    `back` months before it."""
    today = now.astimezone(zone).date()
    index = today.year * 12 + today.month - 1 - back
    first = date(index // 12, index % 12 + 1, 1)
    following = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return (datetime(first.year, first.month, 1, tzinfo=zone),
            datetime(following.year, following.month, 1, tzinfo=zone))


def opened_in(incidents: Iterable[IncidentTimes], start: datetime,
              end: datetime) -> list[IncidentTimes]:
    """The incidents that opened in [start, end): where an incident counts."""
    return [incident for incident in incidents if start <= incident.opened < end]


def per_period(
    incidents: Sequence[IncidentTimes], maintenance: Mapping[int, Sequence[Interval]],
    periods: Iterable[Period], by: Grouping, now: datetime,
) -> list[PeriodTimes]:
    """Each period's figures (overall and grouped) over the incidents that opened in it; a
    period without incidents is kept, with counts of zero."""
    answer = []
    for period in periods:
        members = opened_in(incidents, period.start, period.end)
        answer.append(PeriodTimes(period, summarize(members, maintenance, now),
                                  grouped(members, maintenance, by, now)))
    return answer
