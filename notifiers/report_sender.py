"""Scheduled reports: the once-a-minute round that queues due periods and sends queued reports.

A round (`ReportScheduler.run_once`) asks every enabled schedule which period is due
(domain/report_schedule), makes the report of each period nobody queued yet and queues it
(storage/report_outbox.claim_period: one process wins each period), then sends the queued
deliveries one at a time, each claimed and finished as an alert delivery is. Several processes
may run rounds against one database: the period key and the delivery claims keep every report
sent once. How a report goes to each kind of channel is notifiers/report_channels.py.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from config.settings import Settings
from domain.report_schedule import ReportPeriod, due_period, last_whole_period
from notifiers.base import TransportError
from notifiers.report_channels import send_report
from storage import report_outbox
from storage.handles import Engine
from storage.leases import Lease
from storage.report_content import build_report
from storage.report_schedules import ScheduleView, list_schedules

log = logging.getLogger(__name__)

EVERY_S = 60.0
REPORTS_LEASE = "scheduled-reports"
STOP_WAIT_S = 12.0  # as the dispatcher's: one send in flight finishes within a channel's timeout


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    channel: str
    status: str  # delivered | pending (retried later) | failed
    error: str | None


def send_due(engine: Engine, settings: Settings, now: datetime | None = None,
             run_id: int | None = None) -> list[SendOutcome]:
    """Send every due report delivery (only `run_id`'s when given), one at a time; the clock
    is `now` throughout when given (a round of a test), else read at each step."""
    clock = (lambda: now) if now is not None else now_utc
    outcomes = []
    for delivery_id in report_outbox.due_deliveries(engine, clock(), run_id):
        claimed = report_outbox.claim_delivery(engine, delivery_id, clock())
        if claimed is None:
            continue  # another process sends it
        error: TransportError | None = None
        try:
            send_report(claimed, settings, clock())
        except TransportError as failure:
            error = failure
        # Nothing between the provider's answer and this commit: it is the crash window.
        status = report_outbox.finish_delivery(
            engine, claimed.delivery, clock(), error.message if error else None,
            permanent=bool(error and error.permanent),
            retry_after=error.retry_after if error else None)
        name = claimed.channel["name"]
        if error is not None:
            log.warning("report %s to %s: %s (%s)", claimed.run_id, name, error.message, status)
        outcomes.append(SendOutcome(name, status, error.message if error else None))
    return outcomes



def _due(schedule: ScheduleView, now: datetime) -> ReportPeriod | None:
    spec = schedule.spec
    # From its last save: a schedule changed to another period or time does not send at once
    # the period whose send time it has just moved past.
    return due_period(spec.period, spec.send_at, ZoneInfo(spec.timezone), now,
                      not_before=schedule.updated_at)


def queue_due(engine: Engine, now: datetime) -> int:
    """Queue each enabled schedule's due period that no process queued yet; how many."""
    queued = 0
    for schedule in list_schedules(enabled_only=True):
        try:
            queued += _queue_one(engine, schedule, now)
        except Exception:  # one schedule failing must not hold the others' reports back
            log.exception("scheduled report %r could not be queued; trying again next round",
                          schedule.spec.name)
    return queued


def _queue_one(engine: Engine, schedule: ScheduleView, now: datetime) -> int:
    period = _due(schedule, now)
    if period is None or report_outbox.is_claimed(engine, schedule.id, period):
        return 0
    spec = schedule.spec
    content = build_report(spec.name, period, spec.timezone, spec.target_percent, now)
    if report_outbox.claim_period(engine, schedule.id, period, content, spec.channel_ids,
                                  now) is None:
        return 0  # another process queued it first
    log.info("report %r for %s queued to %d channels", spec.name, period.label,
             len(spec.channel_ids))
    return 1


def send_now(engine: Engine, settings: Settings, schedule: ScheduleView, actor: str,
             now: datetime | None = None) -> list[SendOutcome]:
    """The last whole period's report to the schedule's channels, at once (a test: the
    scheduled report of that period still goes out)."""
    now = now or now_utc()
    spec = schedule.spec
    period = last_whole_period(spec.period, ZoneInfo(spec.timezone), now)
    content = build_report(spec.name, period, spec.timezone, spec.target_percent, now)
    run_id = report_outbox.queue_now(engine, schedule.id, period, content, spec.channel_ids,
                                     actor, now)
    return send_due(engine, settings, run_id=run_id)


class ReportScheduler:
    """Runs a round every `every_s` on its own thread, in each process that sends alerts.

    The rounds of the thread run where the reports lease is held (storage/leases), so several
    processes do not each read every monitor for the same report; when the holder stops,
    another takes over within a round. Sending once does not rest on the lease but on the
    period key and the delivery claims, which hold for any process.
    """

    def __init__(self, engine: Engine, settings: Settings, every_s: float = EVERY_S) -> None:
        self._engine = engine
        self._settings = settings
        self._every_s = every_s
        self._lease = Lease(engine, REPORTS_LEASE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="upwatch-reports", daemon=True)

    def run_once(self, now: datetime | None = None) -> None:
        """One round; `now` fixes the clock (tests), else the sends read it as they go, so a
        long round's later claims still get their whole lease."""
        queue_due(self._engine, now or now_utc())
        send_due(self._engine, self._settings, now)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if self._lease.try_acquire():
                        self.run_once()
                except Exception:
                    log.exception("scheduled reports: the round failed; trying again in %g s",
                                  self._every_s)
                self._stop.wait(self._every_s)
        finally:
            # Given back by the thread that took it: the lease is not shared between threads.
            self._lease.release()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_S)
