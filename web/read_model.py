"""An in-memory copy of the public status, so badges and status JSON never query per request.

A snapshot is immutable once built. What is derived from it (a rendered badge, the status JSON,
a feed) is computed on first use and kept with the snapshot, so it is computed once per refresh
rather than once per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from storage.status import PublicComponent, PublicStatus, public_status

log = logging.getLogger(__name__)

T = TypeVar("T")
# Labels come from requests: bound what one snapshot keeps, whatever visitors send.
MAX_DERIVED_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    status: PublicStatus | None = None
    components: dict[str, PublicComponent] = field(default_factory=dict)
    overall: str = "operational"
    built_at: float = 0.0
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: Any, compute: Callable[[], T]) -> T:
        """`compute()` once per snapshot and key (e.g. a badge's rendered bytes)."""
        try:
            return self._derived[key]
        except KeyError:
            value = compute()
            if len(self._derived) < MAX_DERIVED_ENTRIES:
                self._derived[key] = value
            return value


def build_snapshot() -> StatusSnapshot:
    status = public_status()
    return StatusSnapshot(
        status=status,
        components={c.slug: c for c in status.components},
        overall=status.overall,
        built_at=time.time(),
    )


_current: ReadModel | None = None


def running_read_model() -> ReadModel | None:
    """The read model this process keeps fresh, if any (the status page shares it)."""
    return _current


class ReadModel:
    """Rebuilt shortly after new results arrive, and at least every `max_age_s` seconds
    (which also picks up results recorded by other processes)."""

    def __init__(self, max_age_s: float = 10.0, settle_s: float = 0.25) -> None:
        self.snapshot = StatusSnapshot()
        self._stale = True
        self._max_age_s = max_age_s
        self._settle_s = settle_s

    def mark_stale(self) -> None:
        """Safe to call from any thread."""
        self._stale = True

    def refresh(self) -> None:
        self._stale = False
        self.snapshot = build_snapshot()

    def is_fresh(self, slack_s: float = 20.0) -> bool:
        return time.time() - self.snapshot.built_at <= self._max_age_s + slack_s

    async def keep_fresh(self) -> None:
        global _current
        _current = self
        while True:
            age = time.time() - self.snapshot.built_at
            if self._stale or age >= self._max_age_s:
                try:
                    await asyncio.to_thread(self.refresh)
                except Exception:
                    log.exception("could not refresh the status read model")
            await asyncio.sleep(self._settle_s)
