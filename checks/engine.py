"""The probe engine: one scheduler job per monitor, on an event loop of its own.

Probing runs on its own thread and loop so that UI work in the same process never shows up
in measured latencies. Results go to a batch writer thread, so the database never blocks probing.
Monitors are re-read every few seconds, so edits made by any process take effect without
a restart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from checks.http_probe import make_probe_client, probe_http
from checks.result import ProbeResult
from storage.batch_writer import BatchWriter
from storage.schedule import CheckSpec, active_check_specs

log = logging.getLogger(__name__)

GOLDEN_RATIO_FRACTION = 0.6180339887


def start_offset(monitor_id: int, interval: int) -> float:
    """Spread first runs over the interval so that monitors added together don't fire together."""
    return (monitor_id * GOLDEN_RATIO_FRACTION) % 1.0 * interval


class ProbeEngine:
    def __init__(
        self,
        *,
        on_recorded: Callable[[], None] = lambda: None,
        sync_every_s: float = 2.0,
        max_concurrent_checks: int = 500,
    ) -> None:
        self._writer = BatchWriter(on_recorded=lambda _recorded: on_recorded())
        self._sync_every_s = sync_every_s
        self._max_concurrent = max_concurrent_checks
        self._specs: dict[int, CheckSpec] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._client: httpx.AsyncClient | None = None
        self._limit: asyncio.Semaphore | None = None
        self.last_tick: float | None = None  # time.time() of the last successful sync

    # -- lifecycle (called from any thread) ------------------------------------------------

    def start(self) -> None:
        self._writer.start()
        self._thread = threading.Thread(target=self._run, name="upwatch-probes", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._loop is None or self._stopping is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=timeout_s)
        self._writer.stop(timeout_s)

    def seconds_since_tick(self) -> float | None:
        return None if self.last_tick is None else time.time() - self.last_tick

    # -- the engine's own loop -------------------------------------------------------------

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self._limit = asyncio.Semaphore(self._max_concurrent)
        self._client = make_probe_client()
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        scheduler.start()
        scheduler.add_job(
            self._sync, IntervalTrigger(seconds=self._sync_every_s), args=[scheduler],
            id="sync", next_run_time=datetime.now(UTC), max_instances=1, coalesce=True,
        )
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            scheduler.shutdown(wait=False)
            await self._client.aclose()

    async def _sync(self, scheduler: AsyncIOScheduler) -> None:
        try:
            specs = await asyncio.to_thread(active_check_specs)
        except Exception:
            log.exception("could not read monitors; keeping the current schedule")
            return
        first_sync = self.last_tick is None
        now = datetime.now(UTC)
        for monitor_id in self._specs.keys() - specs.keys():
            scheduler.remove_job(f"check-{monitor_id}")
        for monitor_id, spec in specs.items():
            known = self._specs.get(monitor_id)
            if known == spec:
                continue
            # At start, spread the checks; a new or edited monitor is checked at once.
            offset = start_offset(monitor_id, spec.interval) if first_sync else 0.0
            scheduler.add_job(
                self._check, IntervalTrigger(seconds=spec.interval, timezone=UTC),
                args=[monitor_id], id=f"check-{monitor_id}", replace_existing=True,
                next_run_time=now + timedelta(seconds=offset),
                max_instances=1, coalesce=True, misfire_grace_time=spec.interval,
            )
        self._specs = specs
        self.last_tick = time.time()

    async def _check(self, monitor_id: int) -> None:
        spec = self._specs.get(monitor_id)
        if spec is None or self._limit is None:
            return
        async with self._limit:
            result = await self._probe(spec)
        self._writer.submit(monitor_id, result)

    async def _probe(self, spec: CheckSpec) -> ProbeResult:
        assert self._client is not None
        try:
            return await probe_http(spec.url, spec.timeout, self._client)
        except Exception as exc:  # a probe must never take the engine down
            log.exception("probe of monitor %s failed unexpectedly", spec.monitor_id)
            return ProbeResult(outcome="down", reason=f"internal error: {type(exc).__name__}")
