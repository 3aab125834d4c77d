"""An in-memory copy of the public status, so badges and status JSON never query per request.

The snapshot (web/snapshot) is immutable once built and replaced whole. Serving processes get
theirs from a child process that rebuilds it when what it shows changed (web/snapshot_builder,
web/refresh_policy); `refresh()` builds one here instead, right now.
"""

from __future__ import annotations

import asyncio
import time

from web.refresh_policy import RefreshPolicy
from web.snapshot import StatusSnapshot
from web.snapshot_builder import SnapshotBuilderProcess
from web.snapshot_wire import pack_snapshot, unpack_snapshot

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
        self.snapshot = snapshot
        self._confirmed_at = time.time()

    def _confirm(self, when: float) -> None:
        self._confirmed_at = when

    def is_fresh(self, slack_s: float = 20.0) -> bool:
        return time.time() - self._confirmed_at <= self._policy.check_every_s + slack_s

    async def keep_fresh(self) -> None:
        """Until cancelled, install the snapshots a child process builds."""
        global _current
        builder = SnapshotBuilderProcess(self._policy, self.install, self._confirm)
        await asyncio.to_thread(builder.start)
        self._builder = builder
        _current = self
        try:
            await asyncio.Event().wait()
        finally:
            self._builder = None
            if _current is self:  # a stopped model's snapshot goes stale: nobody may read it
                _current = None
            await asyncio.to_thread(builder.stop)
