"""The monitor list's answer, kept a moment: GET /api/v1/monitors of 1,000 monitors costs
~150-1,000 ms of CPU to read and encode, so under many clients each would wait for all the
others' lists. One list is built at a time and shared for FRESH_S; a write made in this process
drops it at once, other changes (checks, other processes) show within FRESH_S. While the next
is being built, other requests get the last one (at most STALE_S old) rather than wait.

It is kept gzip-compressed too (the list compresses ~50:1): sent with its Content-Encoding,
the server's gzip middleware leaves it alone instead of compressing 830 KB per request.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Awaitable, Callable

FRESH_S = 1.0
STALE_S = 5.0  # at most this old while the next is being built


class ListAnswers:
    def __init__(self, build: Callable[[bool], Awaitable[bytes]]) -> None:
        self._build = build  # full (a token was sent) -> the body
        self._kept: dict[bool, tuple[float, bytes, bytes]] = {}
        self._generation = 0
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        self._generation += 1
        self._kept.clear()

    def _fresh(self, full: bool) -> tuple[bytes, bytes] | None:
        kept = self._kept.get(full)
        return (kept[1], kept[2]) if kept and time.monotonic() - kept[0] < FRESH_S else None

    async def bodies(self, full: bool) -> tuple[bytes, bytes]:
        """The body, and the same gzip-compressed."""
        if (bodies := self._fresh(full)) is not None:
            return bodies
        kept = self._kept.get(full)
        if kept is not None and self._lock.locked() and time.monotonic() - kept[0] < STALE_S:
            return kept[1], kept[2]  # being rebuilt: the last one rather than a wait
        async with self._lock:  # the others wait for this build rather than start their own
            if (bodies := self._fresh(full)) is not None:
                return bodies
            started, generation = time.monotonic(), self._generation
            body = await self._build(full)
            bodies = body, await asyncio.to_thread(gzip.compress, body, 6)
            if generation == self._generation:  # no write landed while it was read
                self._kept[full] = (started, *bodies)
            return bodies
