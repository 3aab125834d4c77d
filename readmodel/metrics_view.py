"""The figures /metrics shows, read where the snapshot is built (readmodel/wire) in a fixed
number of statements: every monitor (public or not), its uptime per window, its certificate's
expiry (from the last certificate's facts), and counters from readmodel/metrics_ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.schedule_lag import next_check_due
from domain.states import effective_state
from readmodel.metrics_ledger import CountLedger
from storage.certificates import certificate_expiries
from storage.db import get_engine, read_connection
from storage.metric_reads import (
    attempt_counts,
    metric_monitors,
    newest_attempt_id,
    newest_result_id,
    result_counts,
)
from storage.status import PublicStatus
from storage.status_numbers import status_read_model

METRIC_WINDOWS = ("24h", "7d", "30d")
# The latency histogram's upper bounds, in seconds (Prometheus's defaults, from 25 ms).
LATENCY_BOUNDS_S = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BOUNDS_MS = tuple(bound * 1000 for bound in LATENCY_BOUNDS_S)


@dataclass(frozen=True, slots=True)
class MonitorFigures:
    slug: str
    group: str
    kind: str
    public: bool
    state: str  # the effective state
    latency_s: float | None
    last_check_at: float | None  # epoch seconds
    cert_not_after: float | None  # epoch seconds
    uptime: dict[str, float | None]
    checks: dict[str, float] = field(default_factory=dict)  # outcome -> results recorded
    latency_buckets: tuple[float, ...] = ()  # cumulative, one per LATENCY_BOUNDS_S
    latency_sum_s: float = 0.0
    latency_count: float = 0.0


@dataclass(frozen=True, slots=True)
class MetricsView:
    monitors: tuple[MonitorFigures, ...]
    notifications: dict[tuple[str, str], float]  # (channel, outcome) -> send attempts
    next_due: float | None  # epoch seconds: the earliest check the engine owes
    built_at: float


_LEDGERS: dict[str, tuple[CountLedger, CountLedger]] = {}


def _ledgers() -> tuple[CountLedger, CountLedger]:
    """This database's ledgers (tests switch databases within one process)."""
    key = str(get_engine().url)
    if key not in _LEDGERS:
        _LEDGERS[key] = (
            CountLedger(lambda c, a, b: result_counts(c, a, b, _BOUNDS_MS)),
            CountLedger(attempt_counts),
        )
    return _LEDGERS[key]


def _histogram(figures: list[tuple[float, ...]]) -> tuple[tuple[float, ...], float, float]:
    """(cumulative buckets, sum in seconds, count) from result_counts' rows of one monitor."""
    buckets = [0.0] * len(_BOUNDS_MS)
    total_ms = count = 0.0
    for row in figures:
        total_ms, count = total_ms + row[1], count + row[2]
        buckets = [b + v for b, v in zip(buckets, row[3:], strict=True)]
    return tuple(buckets), total_ms / 1000, count


def read_metrics(status: PublicStatus | None = None, now: datetime | None = None) -> MetricsView:
    """The figures, read now; public monitors' uptime is taken from `status` when given (it was
    just read for the snapshot)."""
    now = now or datetime.now(UTC)
    at = now.timestamp()
    results_ledger, attempts_ledger = _ledgers()
    with read_connection() as connection:
        monitors = metric_monitors(connection)
        expiries = certificate_expiries(connection)
        checks = results_ledger.totals(connection, newest_result_id(connection), at)
        sends = attempts_ledger.totals(connection, newest_attempt_id(connection), at)
    known = {c.id: c.uptime for c in status.components} if status is not None else {}
    # The overview's numbers: their past is kept between reads, so a rebuild stays cheap.
    uptime = {monitor_id: numbers.uptime for monitor_id, numbers in status_read_model(
        [m.id for m in monitors if m.id not in known], now).items()}
    by_monitor: dict[int, dict[str, tuple[float, ...]]] = {}
    for (monitor_id, outcome), row in checks.items():
        by_monitor.setdefault(monitor_id, {})[outcome] = row
    figures = []
    for m in monitors:
        rows = by_monitor.get(m.id, {})
        buckets, latency_sum, latency_count = _histogram(list(rows.values()))
        expiry = expiries.get(m.id)
        windows = known.get(m.id) or uptime.get(m.id, {})
        figures.append(MonitorFigures(
            slug=m.slug, group=m.group or "", kind=m.kind, public=m.public,
            state=effective_state(m.paused, m.state),
            latency_s=None if m.latency_ms is None else m.latency_ms / 1000,
            last_check_at=None if m.last_check_at is None else m.last_check_at.timestamp(),
            cert_not_after=None if expiry is None else expiry.timestamp(),
            uptime={w: windows.get(w) for w in METRIC_WINDOWS},
            checks={outcome: row[0] for outcome, row in rows.items()},
            latency_buckets=buckets, latency_sum_s=latency_sum, latency_count=latency_count,
        ))
    dues = [due.timestamp() for m in monitors if (due := next_check_due(
        m.last_check_at, m.interval_s, m.timeout_s, paused=m.paused, kind=m.kind)) is not None]
    return MetricsView(
        monitors=tuple(figures),
        notifications={key: row[0] for key, row in sends.items()},
        next_due=min(dues, default=None),
        built_at=at,
    )
