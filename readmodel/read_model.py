"""An in-memory copy of the public status, so badges and status JSON never query per request.

The snapshot (readmodel/snapshot) is immutable once built and replaced whole. Serving processes get
theirs from a child process that rebuilds it when what it shows changed (readmodel/builder_process,
readmodel/refresh_policy); `refresh()` builds one here instead, right now.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from readmodel.builder_process import SnapshotBuilderProcess
from readmodel.refresh_policy import RefreshPolicy
from readmodel.snapshot import StatusSnapshot
from readmodel.wire import pack_snapshot, unpack_snapshot

log = logging.getLogger(__name__)

BUILDER_WATCH_S = 1.0  # how soon a read-model process that died is started again

_current: ReadModel | None = None


def running_read_model() -> ReadModel | None:
    """The read model this process keeps fresh, if any (the status page shares it)."""
    return _current


class ReadModel:
    def __init__(self, policy: RefreshPolicy | None = None) -> None:
        self.snapshot = StatusSnapshot()
        self._policy = policy or RefreshPolicy()
        self._builder: SnapshotBuilderProcess | None = None
        self._confirmed_at = 0.0  # when the snapshot was last known to be current
        self._first_installed = threading.Event()
        self._made_at = time.monotonic()

    def mark_stale(self) -> None:
        """Something the snapshot shows changed. Safe to call from any thread."""
        builder = self._builder
        if builder is not None:
            builder.mark_stale()

    def refresh(self) -> None:
        """Build a snapshot in this process and install it."""
        self.install(pack_snapshot())

    def install(self, packed: bytes | memoryview) -> None:
        """Serve the packed snapshot from now on. Runs off the event loop: the answers kept
        with the current snapshot are made again from the new one first."""
        snapshot = unpack_snapshot(packed)
        snapshot.carry_answers_from(self.snapshot)
        self._confirmed_at = time.time()  # first: a new snapshot is never seen as an old one
        self.snapshot = snapshot
        self._first_installed.set()

    def wait_for_first_snapshot(self, timeout_s: float) -> bool:
        """Wait (on a thread, never the event loop) until a snapshot is installed, but not past
        `timeout_s` after this read model was made; whether one is. Right after start, a page
        run waits for the one being built rather than reading the same status itself, which
        takes as long again and competes with the build for the CPU. A first build that keeps
        failing makes only the first runs wait, not every run after them."""
        left = self._made_at + timeout_s - time.monotonic()
        return self._first_installed.wait(left) if left > 0 else self._first_installed.is_set()

    def _confirm(self, when: float) -> None:
        self._confirmed_at = when

    def is_fresh(self, slack_s: float = 20.0) -> bool:
        return time.time() - self._confirmed_at <= self._policy.check_every_s + slack_s

    def seconds_since_current(self) -> float | None:
        """How long ago the snapshot served was last known to be current (installed, or found
        unchanged by the builder's check); None before the first one. It grows while rebuilds
        fail (the database unreadable, say), or while no builder runs."""
        if not self.snapshot.known:
            return None
        return max(0.0, time.time() - self._confirmed_at)

    @property
    def builder_pid(self) -> int | None:
        """The process building the snapshots, while keep_fresh runs."""
        builder = self._builder
        return None if builder is None else builder.pid

    async def keep_fresh(self) -> None:
        """Until cancelled, install the snapshots a child process builds; start it again if it
        ever exits (badges would otherwise show its last snapshot for good)."""
        global _current
        _current = self
        try:
            while True:
                self._builder = SnapshotBuilderProcess(self._policy, self.install, self._confirm)
                await asyncio.to_thread(self._builder.start)
                while self._builder.is_alive():
                    await asyncio.sleep(BUILDER_WATCH_S)
                log.warning("the read-model process exited (code %s); starting it again",
                            self._builder.exitcode)
                await asyncio.to_thread(self._builder.stop)
        finally:
            builder, self._builder = self._builder, None
            if _current is self:  # a stopped model's snapshot goes stale: nobody may read it
                _current = None
            if builder is not None:
                await asyncio.to_thread(builder.stop)
