"""Which monitors this process probes, when several probe workers share one PostgreSQL database.

PostgreSQL's session-level advisory locks do the coordination. Each worker holds one "worker
slot" lock, so the number of live workers is the number of slot locks granted; it then holds
one lock per monitor it probes, up to its fair share. Locks belong to the worker's dedicated
connection: when a worker dies, the server drops its connection and its locks, and the others
take its monitors over at their next sync. Nothing is decided by the workers among themselves.

On SQLite (one process by design) every monitor is this process's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Advisory lock key spaces (the two-integer form: namespace, id).
WORKER_SLOTS_NAMESPACE = 0x5570_0001
MONITOR_NAMESPACE = 0x5570_0002
MAX_WORKERS = 256


class MonitorClaims:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._shared = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None
        self._held: set[int] = set()
        self.slot: int | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()  # the server releases every lock of this session
            self._connection = None
        self._held.clear()
        self.slot = None

    def owned(self, monitor_ids: Iterable[int]) -> set[int]:
        """The subset of `monitor_ids` this worker should probe now."""
        wanted = set(monitor_ids)
        if not self._shared:
            return wanted
        try:
            return self._rebalance(wanted)
        except Exception:
            log.exception("could not coordinate with other workers; reconnecting")
            self.close()
            return set()

    def _session(self) -> Connection:
        if self._connection is None:
            # Its own unpooled connection: closing it must end the session and drop the locks.
            dedicated = create_engine(self._engine.url, poolclass=NullPool)
            self._connection = dedicated.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def _try_lock(self, namespace: int, key: int) -> bool:
        return bool(self._session().execute(
            text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": namespace, "key": key}
        ).scalar())

    def _unlock(self, namespace: int, key: int) -> None:
        self._session().execute(
            text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": namespace, "key": key}
        )

    def _live_workers(self) -> int:
        return int(self._session().execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND classid = :ns AND database = (SELECT oid FROM pg_database "
                 "WHERE datname = current_database())"),
            {"ns": WORKER_SLOTS_NAMESPACE},
        ).scalar() or 1)

    def _held_by_anyone(self) -> set[int]:
        rows = self._session().execute(
            text("SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND classid = :ns AND database = (SELECT oid FROM pg_database "
                 "WHERE datname = current_database())"),
            {"ns": MONITOR_NAMESPACE},
        )
        return {int(row[0]) for row in rows}

    def _take_slot(self) -> None:
        for slot in range(MAX_WORKERS):
            if self._try_lock(WORKER_SLOTS_NAMESPACE, slot):
                self.slot = slot
                return
        raise RuntimeError(f"more than {MAX_WORKERS} probe workers share this database")

    def _rebalance(self, wanted: set[int]) -> set[int]:
        if self.slot is None:
            self._take_slot()
        for gone in self._held - wanted:  # deleted or paused monitors
            self._unlock(MONITOR_NAMESPACE, gone)
        self._held &= wanted
        share = math.ceil(len(wanted) / self._live_workers())
        # Give back what is over the share, so a newly started worker gets its part.
        for extra in sorted(self._held)[share:]:
            self._unlock(MONITOR_NAMESPACE, extra)
            self._held.discard(extra)
        # Only monitors no other worker holds: one query instead of a failed try per monitor.
        candidates = sorted(wanted - self._held - self._held_by_anyone())
        # Start each worker at a different point so workers don't race for the same monitors.
        offset = (self.slot or 0) * len(candidates) // max(self._live_workers(), 1)
        for monitor_id in candidates[offset:] + candidates[:offset]:
            if len(self._held) >= share:
                break
            if self._try_lock(MONITOR_NAMESPACE, monitor_id):
                self._held.add(monitor_id)
        return set(self._held)
