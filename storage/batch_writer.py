"""A writer thread that records results in batches, so probing never waits for the database."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from config.settings import get_settings
from domain.decide import Thresholds
from domain.result import ProbeResult
from storage.db import get_engine
from storage.recorder import Recorded, record_batch
from storage.rule_watch import RuleWatch

log = logging.getLogger(__name__)

Item = tuple[int, ProbeResult]


class BatchWriter:
    """Collects results from any thread; one thread writes them, a batch per transaction.

    A batch closes after `max_wait_s` or `max_batch` results, whichever comes first. When the
    database refuses a batch, it is retried (results stay queued) rather than dropped.

    `max_batch` is large because a backlog (a restart, a slow disk, a burst of monitors) is best
    cleared in big transactions: a batch reads and writes each monitor's state and current
    rollup rows once however many of its results it holds, and pays one commit.
    """

    def __init__(
        self,
        on_recorded: Callable[[Recorded], None] = lambda _recorded: None,
        thresholds: Callable[[int], Thresholds | None] = lambda _monitor_id: None,
        max_batch: int = 20_000,
        max_wait_s: float = 0.2,
    ) -> None:
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._on_recorded = on_recorded
        self._thresholds = thresholds
        self.max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._thread = threading.Thread(target=self._run, name="upwatch-writer", daemon=True)
        self.written = 0
        # Alert rules are judged here, where results are recorded; their recent checks live
        # as long as the writer.
        self.rules = RuleWatch()

    def start(self) -> None:
        self._thread.start()

    def submit(self, monitor_id: int, result: ProbeResult) -> None:
        self._queue.put((monitor_id, result))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout=timeout_s)

    def _next_batch(self) -> tuple[list[Item], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch, deadline = [first], time.monotonic() + self._max_wait_s
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._next_batch()
            if batch:
                self._write_with_retry(batch)

    def _write_with_retry(self, batch: list[Item]) -> None:
        limits = {m: t for m, _ in batch if (t := self._thresholds(m)) is not None}
        delay = 0.5
        while True:
            try:
                with get_engine().begin() as connection:
                    recorded = record_batch(connection, batch, get_settings().zone, limits,
                                            self.rules)
                break
            except Exception:
                log.exception("could not record %d results; retrying in %.1f s", len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        self.written += recorded.results
        try:
            self._on_recorded(recorded)
        except Exception:
            log.exception("a listener of recorded results failed")
