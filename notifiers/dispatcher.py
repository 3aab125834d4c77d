"""The dispatcher: plans deliveries for new state changes and sends them from worker threads.

It runs on its own thread, so probing never waits for a notification. The protocol (claims,
leases, the crash window) is described in storage/alerting.py.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from notifiers.ack import ack_url
from notifiers.base import TransportError
from notifiers.message import Notice
from notifiers.registry import CHANNELS, ChannelCache, ChannelUnusable, sync_env_channels
from storage import alerting
from storage.alerting import Claimed
from storage.models import Incident, Monitor, StateChange, as_utc

log = logging.getLogger(__name__)

MONITORS = Monitor.__table__
INCIDENTS = Incident.__table__
CHANGES = StateChange.__table__
SETTINGS = alerting.SETTINGS
HOUSEKEEPING_EVERY_S = 5.0


def now_utc() -> datetime:
    return datetime.now(UTC)


def secret_key(engine: Engine, settings: Settings) -> str:
    """UPWATCH_SECRET_KEY, or one made once and kept in the database (all processes share it)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    with engine.begin() as connection:
        stored = alerting.alert_settings(connection)["secret_key"]
        if stored:
            return stored
        connection.execute(update(SETTINGS).where(SETTINGS.c.id == 1,
                                                  SETTINGS.c.secret_key.is_(None))
                           .values(secret_key=secrets.token_urlsafe(32)))
        return alerting.alert_settings(connection)["secret_key"]


def build_notice(connection, delivery: dict, settings: Settings, key: str) -> Notice:
    change = connection.execute(
        select(CHANGES).where(CHANGES.c.id == delivery["event_id"])).mappings().one()
    monitor = connection.execute(
        select(MONITORS.c.name, MONITORS.c.slug).where(MONITORS.c.id == change["monitor_id"])
    ).first()
    name, slug = (monitor.name, monitor.slug) if monitor else ("(deleted monitor)", "deleted")
    incident = None
    if delivery["incident_id"] is not None:
        incident = connection.execute(
            select(INCIDENTS).where(INCIDENTS.c.id == delivery["incident_id"])).mappings().first()
    downtime = None
    if delivery["kind"] == "up" and incident and incident["resolved_at"]:
        downtime = as_utc(incident["resolved_at"]) - as_utc(incident["started_at"])
    link = None
    if delivery["kind"] in ("down", "flapping", "reminder") and incident is not None:
        link = ack_url(settings.public_url, key, incident["id"])
    base = settings.public_url.rstrip("/")
    state = change["to_state"]
    return Notice(
        kind=delivery["kind"], monitor_name=name, monitor_slug=slug, state=state,
        reason=change["reason"], since=as_utc(change["at"]),
        dashboard_url=f"{base}/?monitor={quote(slug)}", status_url=f"{base}/status",
        event_id=delivery["event_id"] * 1000 + delivery["sequence"], downtime=downtime,
        ack_url=link,
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
        self._thread = threading.Thread(target=self._run, name="upwatch-dispatch", daemon=True)
        self._key = ""
        self._housekeeping_at = 0.0

    def prepare(self) -> None:
        """Everything before the first round: environment channels, the link-signing key."""
        with self._engine.begin() as connection:
            sync_env_channels(connection, self._settings)
        self._key = secret_key(self._engine, self._settings)

    def start(self) -> None:
        self.prepare()
        self._thread.start()

    def wake(self, *_args: object) -> None:
        """Called after results were recorded: new events may wait."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout_s)
        # In-flight sends finish and record their outcome; queued work stays in the database.
        self._pool.shutdown(wait=True, cancel_futures=True)

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
        with self._engine.connect() as connection:
            events = alerting.unplanned_events(connection)
        for event_id in events:
            with self._engine.begin() as connection:
                alerting.plan_event(connection, event_id, now)
        if time.monotonic() - self._housekeeping_at > HOUSEKEEPING_EVERY_S:
            self._housekeeping_at = time.monotonic()
            with self._engine.begin() as connection:
                alerting.plan_reminders(connection, now)
                settled = alerting.settle_flapping(connection, now)
            if settled:
                self._wake.set()
        with self._lock:
            in_flight = list(self._in_flight)
            free = self._workers - len(in_flight)
        if in_flight:
            with self._engine.begin() as connection:
                alerting.renew_leases(connection, in_flight, now)
        if free <= 0:
            return
        with self._engine.connect() as connection:
            due = alerting.due_deliveries(connection, now, free + len(in_flight))
        for delivery_id in due:
            if delivery_id in in_flight:
                continue
            with self._engine.begin() as connection:
                claimed = alerting.claim_delivery(connection, delivery_id, now_utc())
                if claimed is None or alerting.skip_if_settled(
                        connection, claimed.delivery, now_utc()):
                    continue
            with self._lock:
                self._in_flight.add(delivery_id)
            self._pool.submit(self._send, claimed)

    def _send(self, claimed: Claimed) -> None:
        delivery = claimed.delivery
        try:
            with self._engine.connect() as connection:
                row = dict(connection.execute(
                    select(CHANNELS).where(CHANNELS.c.id == delivery["channel_id"])
                ).mappings().one())
                notice = build_notice(connection, delivery, self._settings, self._key)
            error: TransportError | None = None
            began = time.perf_counter()
            try:
                self._channels.channel_for(row).send(notice)
            except TransportError as failure:
                error = failure
            except ChannelUnusable as failure:
                error = TransportError(str(failure), permanent=True)
            elapsed_ms = (time.perf_counter() - began) * 1000
            # Nothing between the provider's answer and this commit: it is the crash window.
            with self._engine.begin() as connection:
                status = alerting.finish_delivery(
                    connection, delivery, row["name"], now_utc(),
                    error.message if error else None,
                    permanent=bool(error and error.permanent),
                    retry_after=error.retry_after if error else None, duration_ms=elapsed_ms,
                )
            if error is not None:
                log.warning("delivery %s to %s: %s (%s)", delivery["id"], row["name"],
                            error.message, status)
        except Exception:
            log.exception("delivery %s could not be sent; its lease will expire", delivery["id"])
        finally:
            with self._lock:
                self._in_flight.discard(delivery["id"])
            self._wake.set()
