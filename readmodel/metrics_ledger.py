"""Counters for /metrics that hold across processes: counted from rows the database records
(check results, send attempts), whichever process wrote them, never from in-process counters
the web process would not see (the probe engine runs in its own process, workers elsewhere).

A ledger counts rows by id from the newest id when it began (its counters start at 0 then, as
a restarted exporter's do; Prometheus's rate() and increase() read that as a reset). Counts up
to a "settled" id are kept; the rows after it are counted again at each build, so a row that
commits late with a lower id (PostgreSQL hands out ids before commit) is still counted. An id
settles once it has been the newest for SETTLE_S, far longer than a recording transaction.
Each build costs one or two grouped statements over the rows since the settled id.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import Connection

SETTLE_S = 60.0

Key = TypeVar("Key", bound=Hashable)
Counts = dict[Key, tuple[float, ...]]
# Counts the rows with after_id < id <= up_to_id, by key.
CountRows = Callable[[Connection, int, int], Counts]


def _plus(total: Counts, more: Counts) -> Counts:
    summed = dict(total)
    for key, values in more.items():
        kept = summed.get(key)
        summed[key] = values if kept is None else tuple(a + b for a, b in zip(kept, values,
                                                                             strict=True))
    return summed


class CountLedger(Generic[Key]):
    def __init__(self, count_rows: CountRows) -> None:
        self._count_rows = count_rows
        self._settled_id: int | None = None
        self._settled: Counts = {}
        self._pending: tuple[int, float] | None = None  # (newest id, when first seen)
        self.began_at: float | None = None  # the counters' start (epoch seconds)

    def totals(self, connection: Connection, newest_id: int, now: float) -> Counts:
        """The counts of the rows recorded since this ledger began, up to `newest_id`."""
        if self._settled_id is None or newest_id < self._settled_id:  # new or emptied table
            self._settled_id, self._settled, self._pending = newest_id, {}, None
            self.began_at = now
        if self._pending is not None and now - self._pending[1] >= SETTLE_S:
            settled_to = self._pending[0]
            self._settled = _plus(self._settled,
                                  self._count_rows(connection, self._settled_id, settled_to))
            self._settled_id, self._pending = settled_to, None
        if self._pending is None and newest_id > self._settled_id:
            self._pending = (newest_id, now)
        if newest_id <= self._settled_id:
            return dict(self._settled)
        return _plus(self._settled, self._count_rows(connection, self._settled_id, newest_id))
