"""An in-memory copy of the public status, so badges and status JSON never query per request."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from storage.status import PublicComponent, overall_state, public_components

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    components: dict[str, PublicComponent] = field(default_factory=dict)
    overall: str = "operational"
    built_at: float = 0.0


def build_snapshot() -> StatusSnapshot:
    components = public_components()
    return StatusSnapshot(
        components={c.slug: c for c in components},
        overall=overall_state(components),
        built_at=time.time(),
    )


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

    async def keep_fresh(self) -> None:
        while True:
            age = time.time() - self.snapshot.built_at
            if self._stale or age >= self._max_age_s:
                try:
                    await asyncio.to_thread(self.refresh)
                except Exception:
                    log.exception("could not refresh the status read model")
            await asyncio.sleep(self._settle_s)
