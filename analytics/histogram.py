"""A mergeable latency histogram with logarithmic buckets and at most 1% relative error.

Bucket scheme (the one DDSketch uses, with relative accuracy a = 0.01):

    gamma    = (1 + a) / (1 - a)                 ~ 1.0202
    index(x) = ceil(log(x) / log(gamma))         bucket i holds (gamma^(i-1), gamma^i]
    value(i) = 2 * gamma^i / (gamma + 1)

Every x in bucket i satisfies |value(i) - x| <= a * x, so any quantile read from the buckets is
within 1% of the true sample value at the same rank. Latencies of 0.01 ms .. 600,000 ms use
indices -230 .. 666; exact zeros (a cached or faked answer) have no logarithm and get their own
counter, ranked below every positive bucket. Exact min and max are kept as well, and quantile
estimates are clamped into [min, max], which only ever moves them closer to the truth.

Quantile definition (what "exact" means in the tests): nearest rank. For n samples sorted
ascending, quantile(q) is the sample at 1-based rank max(1, ceil(q * n)).

Two histograms merge by adding bucket counts, so merging is associative and commutative, and a
window's percentiles are a merge of pre-aggregated hourly or daily histograms. The stored form
(`to_bytes`) is `analytics.histogram_codec`'s; merging stored forms without decoding them is
`analytics.histogram_blobs`'s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from analytics.histogram_codec import decode_histogram, encode_histogram

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_INV_LOG_GAMMA = 1.0 / math.log(GAMMA)
_VALUE_FACTOR = 2.0 / (GAMMA + 1.0)


def bucket_index(latency_ms: float) -> int:
    """The bucket a positive latency falls in."""
    return math.ceil(math.log(latency_ms) * _INV_LOG_GAMMA)


def bucket_value(index: int) -> float:
    """The representative latency of a bucket: within 1% of everything in it."""
    return _VALUE_FACTOR * GAMMA**index


@dataclass(slots=True)
class LatencyHistogram:
    """Latency samples in milliseconds, bucketed; `buckets` maps bucket index to count.

    Buckets with a zero count are never stored, so equal contents compare equal.
    """

    buckets: dict[int, int] = field(default_factory=dict)
    zeros: int = 0
    min_ms: float | None = None
    max_ms: float | None = None

    @property
    def count(self) -> int:
        return self.zeros + sum(self.buckets.values())

    def add(self, latency_ms: float, times: int = 1) -> None:
        if not math.isfinite(latency_ms) or latency_ms < 0:
            raise ValueError(f"a latency must be a finite number of ms >= 0, not {latency_ms!r}")
        if times <= 0:
            raise ValueError("times must be positive")
        if latency_ms == 0:
            self.zeros += times
        else:
            index = bucket_index(latency_ms)
            self.buckets[index] = self.buckets.get(index, 0) + times
        if self.min_ms is None or latency_ms < self.min_ms:
            self.min_ms = latency_ms
        if self.max_ms is None or latency_ms > self.max_ms:
            self.max_ms = latency_ms

    def merge(self, other: LatencyHistogram) -> None:
        """Add another histogram's samples into this one."""
        mine = self.buckets
        get = mine.get
        for index, n in other.buckets.items():
            mine[index] = get(index, 0) + n
        self.zeros += other.zeros
        if other.min_ms is not None and (self.min_ms is None or other.min_ms < self.min_ms):
            self.min_ms = other.min_ms
        if other.max_ms is not None and (self.max_ms is None or other.max_ms > self.max_ms):
            self.max_ms = other.max_ms

    def copy(self) -> LatencyHistogram:
        return LatencyHistogram(dict(self.buckets), self.zeros, self.min_ms, self.max_ms)

    def quantile(self, q: float) -> float | None:
        """The nearest-rank q-quantile (0 <= q <= 1), within 1%; None when empty."""
        return self.quantiles([q])[0]

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """Several quantiles in one pass over the buckets (p50, p95, p99 for a badge)."""
        for q in qs:
            if not 0 <= q <= 1:
                raise ValueError(f"a quantile must be between 0 and 1, not {q!r}")
        total = self.count
        if total == 0 or self.min_ms is None or self.max_ms is None:
            return [None for _ in qs]
        low, high = self.min_ms, self.max_ms
        ranks = sorted((max(1, math.ceil(q * total)), position) for position, q in enumerate(qs))
        answers: list[float | None] = [None] * len(qs)
        pending = iter(ranks)
        rank, position = next(pending)
        seen = self.zeros
        while rank <= seen:
            answers[position] = 0.0
            rank, position = next(pending, (total + 1, -1))
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            while rank <= seen:
                answers[position] = min(high, max(low, bucket_value(index)))
                rank, position = next(pending, (total + 1, -1))
            if position == -1:
                break
        return answers

    def to_bytes(self) -> bytes:
        """A compact form for a database column; `from_bytes` reads it back exactly."""
        return encode_histogram(self.buckets, self.zeros, self.min_ms, self.max_ms)

    @classmethod
    def from_bytes(cls, data: bytes) -> LatencyHistogram:
        return cls(*decode_histogram(data))


def add_to_each(histograms: Sequence[LatencyHistogram], latency_ms: float) -> None:
    """`add(latency_ms)` to every histogram given, bucketing the sample once (a check counts
    in its hour's and its day's histogram)."""
    if not latency_ms > 0:  # zero, negative, NaN: the checks and the zero counter of `add`
        for histogram in histograms:
            histogram.add(latency_ms)
        return
    if latency_ms == math.inf:
        raise ValueError(f"a latency must be a finite number of ms >= 0, not {latency_ms!r}")
    index = math.ceil(math.log(latency_ms) * _INV_LOG_GAMMA)
    for histogram in histograms:
        buckets = histogram.buckets
        buckets[index] = buckets.get(index, 0) + 1
        low, high = histogram.min_ms, histogram.max_ms
        if low is None or latency_ms < low:
            histogram.min_ms = latency_ms
        if high is None or latency_ms > high:
            histogram.max_ms = latency_ms


def merge_histograms(histograms: Iterable[LatencyHistogram]) -> LatencyHistogram:
    """One histogram holding every sample of the given ones (the inputs are left as they are)."""
    merged = LatencyHistogram()
    for histogram in histograms:
        merged.merge(histogram)
    return merged


__all__ = [
    "GAMMA",
    "RELATIVE_ACCURACY",
    "LatencyHistogram",
    "add_to_each",
    "bucket_index",
    "bucket_value",
    "merge_histograms",
]
