"""Token buckets by key, in memory: how often one sender may do something.

Each key gets `burst` tokens and `rate` more per second, up to `burst`; doing the thing takes
one. A bucket that has refilled is the same as none, so buckets are dropped once full and the
memory held is that of the keys seen lately. The buckets are per process: behind several web
processes each allows its own rate.

Not thread-safe: the routes call it from the event loop only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

PRUNE_ABOVE = 1_000  # keys held before the full buckets are dropped


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.at) * self.rate_per_s)

    def take(self, key: str) -> int:
        """0 when `key` may go ahead (a token is taken), else the whole seconds to wait."""
        now = self._clock()
        if len(self._buckets) > PRUNE_ABOVE:
            self._buckets = {k: b for k, b in self._buckets.items()
                             if self._refilled(b, now) < self.burst}
        bucket = self._buckets.setdefault(key, _Bucket(self.burst, now))
        bucket.tokens, bucket.at = self._refilled(bucket, now), now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.rate_per_s))

    def forget(self, key: str) -> None:
        """Drop `key`'s bucket (a key that turned out to be nobody's)."""
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)
