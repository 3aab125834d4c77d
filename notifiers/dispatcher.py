"""The dispatcher: plans deliveries for new state changes and sends them from worker threads.

It runs on its own thread, so probing never waits for a notification. The protocol (claims,
leases, the crash window) is described in storage/alerting.py and storage/deliveries.py, whose
functions are each one transaction; what an event means and who hears it is alerting/.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import cast

from alerting.planning import PAGING_KINDS
from config.settings import Settings, get_settings
from domain import links
from notifiers.ack import ack_url
from notifiers.base import TransportError
from notifiers.digest_notice import digest_notice
from notifiers.message import Notice, NoticeKind
from notifiers.registry import ChannelCache, ChannelUnusable, env_channel_kinds
from storage import deliveries, digests
from storage.alerting_admin import note_on_attempt
from storage.deliveries import Claimed, NoticeFacts
from storage.handles import Engine
from storage.key_source import secret_key

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY_S = 5.0
# How long a stopping dispatcher waits for the sends in flight (a channel's own HTTP timeout is
# 10 s): under systemd's and Docker's 30 s before SIGKILL, with the probe engine's stop before.
STOP_WAIT_S = 12.0


def now_utc() -> datetime:
    return datetime.now(UTC)


def build_notice(facts: NoticeFacts, delivery: dict, settings: Settings, key: str) -> Notice:
    name, slug = facts.monitor_name, facts.monitor_slug
    if name is None or slug is None:
        name, slug = "(deleted monitor)", "deleted"
    downtime = None
    if delivery["kind"] == "up" and facts.incident_resolved_at and facts.incident_started_at:
        downtime = facts.incident_resolved_at - facts.incident_started_at
    link = None
    if delivery["kind"] in PAGING_KINDS and facts.incident_id is not None:
        link = ack_url(settings.public_url, key, facts.incident_id)
    return Notice(
        kind=cast(NoticeKind, delivery["kind"]), monitor_name=name, monitor_slug=slug,
        state=facts.to_state, reason=facts.reason, since=facts.at,
        dashboard_url=links.monitor_url(settings.public_url, slug),
        status_url=links.status_url(settings.public_url),
        event_id=delivery["event_id"] * 1000 + delivery["sequence"], downtime=downtime,
        ack_url=link, runbook_url=facts.monitor_runbook_url, severity=facts.severity,
        rule_key=facts.rule_key,
    )


class Dispatcher:
    """One per process that records results (the web process with probes, or `upwatch worker`).

    Several may run against one PostgreSQL database: the conditional updates let exactly one of
    them plan each event and send each delivery.
    """

    def __init__(self, engine: Engine, settings: Settings | None = None,
                 workers: int = 8, poll_s: float = 0.5) -> None:
        self._engine = engine
        self._settings = settings or get_settings()
        self._channels = ChannelCache(self._settings)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upwatch-send")
        self._workers = workers
        self._poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified as each send ends
        self._thread = threading.Thread(target=self._run, name="upwatch-dispatch", daemon=True)
        self._key = ""
        self._housekeeping_at = 0.0

    def prepare(self) -> None:
        """Everything before the first round: environment channels, the link-signing key."""
        deliveries.ensure_env_channels(self._engine, env_channel_kinds(self._settings))
        self._key = secret_key(self._engine, self._settings)

    def start(self) -> None:
        self.prepare()
        self._thread.start()

    def wake(self, *_args: object) -> None:
        """Called after results were recorded: new events may wait."""
        self._wake.set()

    def stop(self, timeout_s: float = STOP_WAIT_S) -> None:
        """Claim nothing more; the sends in flight finish and record their outcome, for up to
        `timeout_s`, their leases kept meanwhile so no other dispatcher sends them too. A send
        still running then is abandoned to its lease: when it expires, the next dispatcher
        sends it again. Queued work stays in the database."""
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)
        while (left := deadline - time.monotonic()) > 0:
            with self._idle:
                if not self._in_flight:
                    return
                self._idle.wait(min(left, self._poll_s))
                in_flight = list(self._in_flight)
            try:
                deliveries.renew_leases(self._engine, in_flight, now_utc())
            except Exception:  # the database went away: the leases expire, nothing is lost
                log.exception("could not keep the leases of the sends in flight")
        with self._lock:
            if self._in_flight:
                log.warning("stopped with %d sends still in flight; they are sent again once "
                            "their leases expire", len(self._in_flight))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._poll_s)
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("dispatch round failed; trying again")
                time.sleep(self._poll_s)

    def run_once(self) -> None:
        """Plan new events, keep leases alive, start due sends (also called by tests)."""
        now = now_utc()
        deliveries.plan_new_events(self._engine, now)
        if time.monotonic() - self._housekeeping_at > HOUSEKEEPING_EVERY_S:
            self._housekeeping_at = time.monotonic()
            if deliveries.plan_timers(self._engine, now):
                self._wake.set()  # settled monitors wrote events to plan
            digests.plan_due_digests(self._engine, now)
        with self._lock:
            in_flight = list(self._in_flight)
            free = self._workers - len(in_flight)
        deliveries.renew_leases(self._engine, in_flight, now)
        if free <= 0:
            return
        for delivery_id in deliveries.due_deliveries(self._engine, now, free + len(in_flight)):
            if delivery_id in in_flight:
                continue
            claimed = deliveries.claim(self._engine, delivery_id, now_utc())
            if claimed is None:
                continue
            with self._lock:
                self._in_flight.add(delivery_id)
            sending = self._pool.submit(self._send, claimed)
            sending.add_done_callback(partial(self._forget_cancelled, delivery_id))

    def _forget_cancelled(self, delivery_id: int, sending: Future[None]) -> None:
        """A send cancelled by a stop before it started is not in flight any more either."""
        if sending.cancelled():
            self._forget(delivery_id)

    def _forget(self, delivery_id: int) -> None:
        with self._idle:
            self._in_flight.discard(delivery_id)
            self._idle.notify_all()

    def _notice(self, facts: NoticeFacts, delivery: dict) -> Notice:
        if delivery["kind"] == digests.DIGEST_KIND:
            return digest_notice(
                digests.digest_listing(self._engine, delivery["id"]), delivery["sequence"],
                delivery["event_id"] * 1000 + 999, self._settings.public_url)
        return build_notice(facts, delivery, self._settings, self._key)

    def _send(self, claimed: Claimed) -> None:
        delivery = claimed.delivery
        try:
            row, facts = deliveries.what_to_send(self._engine, delivery)
            notice = self._notice(facts, delivery)
            error: TransportError | None = None
            note: str | None = None
            began = time.perf_counter()
            try:
                note = self._channels.channel_for(row).send(notice)
            except TransportError as failure:
                error = failure
            except ChannelUnusable as failure:
                error = TransportError(str(failure), permanent=True)
            elapsed_ms = (time.perf_counter() - began) * 1000
            # Nothing between the provider's answer and this commit: it is the crash window.
            status = deliveries.finish(
                self._engine, delivery, row["name"], now_utc(),
                error.message if error else None,
                permanent=bool(error and error.permanent),
                retry_after=error.retry_after if error else None, duration_ms=elapsed_ms,
            )
            if error is not None:
                log.warning("delivery %s to %s: %s (%s)", delivery["id"], row["name"],
                            error.message, status)
            elif note:
                # Delivered all the same; the operator sees why on the channel and in the log.
                log.warning("delivery %s to %s: %s", delivery["id"], row["name"], note)
                try:
                    note_on_attempt(self._engine, delivery["id"], note)
                except Exception:  # the page is delivered and recorded; only the note is lost
                    log.exception("delivery %s: could not record the template note",
                                  delivery["id"])
        except Exception:
            log.exception("delivery %s could not be sent; its lease will expire", delivery["id"])
        finally:
            self._forget(delivery["id"])
            self._wake.set()
