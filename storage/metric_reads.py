"""What /metrics reads beyond the public status: every monitor (private ones too, for a scrape
with the API token), and counts of the check results and send attempts recorded between two
row ids (readmodel/metrics_ledger turns those into counters that hold across processes).

A fixed number of statements whatever the number of monitors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from storage.alerting_models import DeliveryAttempt
from storage.models import CheckResult, as_utc
from storage.tables import table_of
from storage.window_basics import MONITORS, STATES

RESULTS = table_of(CheckResult)
ATTEMPTS = table_of(DeliveryAttempt)


@dataclass(frozen=True, slots=True)
class MetricMonitor:
    id: int
    slug: str
    group: str | None
    kind: str
    public: bool
    paused: bool
    state: str | None
    last_check_at: datetime | None
    latency_ms: float | None
    interval_s: int
    timeout_s: float


def metric_monitors(connection: Connection) -> list[MetricMonitor]:
    """Every monitor, public or not, with its current state, by slug."""
    rows = connection.execute(
        select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.group_name, MONITORS.c.kind,
               MONITORS.c.public, MONITORS.c.paused, STATES.c.state, STATES.c.last_check_at,
               STATES.c.last_latency_ms, MONITORS.c.interval, MONITORS.c.timeout)
        .join(STATES, STATES.c.monitor_id == MONITORS.c.id, isouter=True)
        .order_by(MONITORS.c.slug))
    return [MetricMonitor(r.id, r.slug, r.group_name, r.kind, bool(r.public), bool(r.paused),
                          r.state, as_utc(r.last_check_at), r.last_latency_ms, r.interval,
                          r.timeout) for r in rows]


def newest_result_id(connection: Connection) -> int:
    return int(connection.execute(select(func.max(RESULTS.c.id))).scalar() or 0)


def newest_attempt_id(connection: Connection) -> int:
    return int(connection.execute(select(func.max(ATTEMPTS.c.id))).scalar() or 0)


def result_counts(
    connection: Connection, after_id: int, up_to_id: int, bounds_ms: Sequence[float]
) -> dict[tuple[int, str], tuple[float, ...]]:
    """(monitor id, outcome) -> (results, latency sum in ms, results with a latency, then how
    many took at most each of `bounds_ms`) over the results with after_id < id <= up_to_id."""
    latency = RESULTS.c.latency_ms
    columns = [func.count(), func.coalesce(func.sum(latency), 0.0), func.count(latency)]
    columns += [func.sum(case((latency <= bound, 1), else_=0)) for bound in bounds_ms]
    rows = connection.execute(
        select(RESULTS.c.monitor_id, RESULTS.c.outcome, *columns)
        .where(RESULTS.c.id > after_id, RESULTS.c.id <= up_to_id)
        .group_by(RESULTS.c.monitor_id, RESULTS.c.outcome))
    return {(row[0], row[1]): tuple(float(value or 0) for value in row[2:]) for row in rows}


def attempt_counts(
    connection: Connection, after_id: int, up_to_id: int
) -> dict[tuple[str, str], tuple[float, ...]]:
    """(channel name, outcome) -> (send attempts,) with after_id < id <= up_to_id."""
    rows = connection.execute(
        select(ATTEMPTS.c.channel_name, ATTEMPTS.c.outcome, func.count())
        .where(ATTEMPTS.c.id > after_id, ATTEMPTS.c.id <= up_to_id)
        .group_by(ATTEMPTS.c.channel_name, ATTEMPTS.c.outcome))
    return {(channel, outcome): (float(count),) for channel, outcome, count in rows}
