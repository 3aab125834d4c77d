"""Latency histograms as numpy count arrays, for reads that merge many monitors at once.

A `DenseHistogram` is one histogram as a run of counts from bucket `first`; a `HistogramBlock`
is many of them as one matrix, a row per monitor. The status page's 30-day p95 and the
overview's 24-hour p95 add a kept past block to the newest rows and read every monitor's
quantile with a few numpy operations, instead of a Python loop over each monitor's buckets.
The answers equal LatencyHistogram.quantiles of the merged histograms (nearest rank).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.histogram import LatencyHistogram, bucket_value
from analytics.histogram_codec import DENSE_TAGS, MIN_MAX, read_varint, unzigzag


@dataclass(frozen=True, slots=True)
class DenseHistogram:
    """A histogram as a dense count array from `first` (merged fast with numpy)."""

    zeros: int
    min_ms: float
    max_ms: float
    first: int
    counts: np.ndarray

    @classmethod
    def of(cls, histogram: LatencyHistogram) -> DenseHistogram | None:
        if histogram.count == 0 or histogram.min_ms is None or histogram.max_ms is None:
            return None
        if not histogram.buckets:
            return cls(histogram.zeros, histogram.min_ms, histogram.max_ms, 0,
                       np.zeros(0, np.int64))
        first, last = min(histogram.buckets), max(histogram.buckets)
        counts = np.zeros(last - first + 1, np.int64)
        counts[np.fromiter(histogram.buckets, np.int64) - first] = np.fromiter(
            histogram.buckets.values(), np.int64)
        return cls(histogram.zeros, histogram.min_ms, histogram.max_ms, first, counts)


def decode_dense(blob: bytes) -> DenseHistogram | None:
    """A stored histogram (analytics/histogram.py's format) straight into a count array.

    A day's or an hour's histogram of a busy monitor is stored dense; reading it without a dict
    per bucket is what keeps a read of 1,000 monitors short.
    """
    if not blob:
        return None
    tag = blob[0]
    if tag not in DENSE_TAGS:
        return DenseHistogram.of(LatencyHistogram.from_bytes(blob))
    zeros, offset = read_varint(blob, 1)
    min_ms, max_ms = MIN_MAX.unpack_from(blob, offset)
    zigzagged, offset = read_varint(blob, offset + MIN_MAX.size)
    dtype = np.dtype(DENSE_TAGS[tag]).newbyteorder("<")
    counts = np.frombuffer(blob, dtype, offset=offset)  # added into int64 rows as it is
    return DenseHistogram(zeros, min_ms, max_ms, unzigzag(zigzagged), counts)


@dataclass(frozen=True, slots=True)
class HistogramBlock:
    """Histograms of many monitors as one matrix, a row per monitor."""

    counts: np.ndarray  # (monitors, width) int64 latency counts; column 0: exact zeros
    lowest: int  # the bucket index of column 1
    low_ms: np.ndarray  # (monitors,) float64 minimum latency, +inf when none
    high_ms: np.ndarray  # (monitors,) float64 maximum latency, -inf when none

    @classmethod
    def of(cls, histograms: Sequence[DenseHistogram | None]) -> HistogramBlock:
        present = [h for h in histograms if h is not None and len(h.counts)]
        lowest = min((h.first for h in present), default=0)
        width = max((h.first + len(h.counts) for h in present), default=0) - lowest + 1
        counts = np.zeros((len(histograms), width), np.int64)
        low = np.full(len(histograms), np.inf)
        high = np.full(len(histograms), -np.inf)
        for row, histogram in enumerate(histograms):
            if histogram is None:
                continue
            counts[row, 0] = histogram.zeros
            start = histogram.first - lowest + 1
            counts[row, start:start + len(histogram.counts)] = histogram.counts
            low[row], high[row] = histogram.min_ms, histogram.max_ms
        return cls(counts, lowest, low, high)

    def plus(self, newest: Sequence[DenseHistogram | None]) -> HistogramBlock:
        """This block with each row's histogram in `newest` added to the same row."""
        present = [h for h in newest if h is not None and len(h.counts)]
        lowest = min([self.lowest, *(h.first for h in present)])
        end = max([self.lowest + self.counts.shape[1] - 1,
                   *(h.first + len(h.counts) for h in present)])
        shift = self.lowest - lowest
        matrix = np.zeros((len(newest), end - lowest + 1), np.int64)  # column 0: exact zeros
        matrix[:, 0] = self.counts[:, 0]
        matrix[:, shift + 1:shift + self.counts.shape[1]] = self.counts[:, 1:]
        newest_low = np.full(len(newest), np.inf)
        newest_high = np.full(len(newest), -np.inf)
        for row, histogram in enumerate(newest):
            if histogram is None:
                continue
            matrix[row, 0] += histogram.zeros
            start = histogram.first - lowest + 1
            matrix[row, start:start + len(histogram.counts)] += histogram.counts
            newest_low[row], newest_high[row] = histogram.min_ms, histogram.max_ms
        return HistogramBlock(matrix, lowest, np.minimum(self.low_ms, newest_low),
                              np.maximum(self.high_ms, newest_high))

    def quantile_with(self, newest: Sequence[DenseHistogram | None],
                      q: float) -> list[float | None]:
        """Each row's q-quantile with the same row of `newest` added."""
        return self.plus(newest).quantile(q)

    def quantile(self, q: float) -> list[float | None]:
        """Each row's q-quantile (nearest rank, exactly as LatencyHistogram.quantiles of the
        row's histogram)."""
        return [row[0] for row in self.quantiles((q,))]

    def quantiles(self, qs: Sequence[float]) -> list[tuple[float | None, ...]]:
        """Each row's quantiles at `qs`, one tuple per row (see `quantile`)."""
        cumulative = self.counts.cumsum(axis=1)
        totals = cumulative[:, -1] if cumulative.shape[1] else np.zeros(len(cumulative), np.int64)
        # Column j >= 1 holds bucket lowest + j - 1; its value as bucket_value gives it.
        values = np.array([bucket_value(self.lowest + j)
                           for j in range(max(cumulative.shape[1] - 1, 1))])
        columns = []
        for q in qs:
            ranks = np.maximum(1, np.ceil(q * totals.astype(np.float64)))
            positions = (cumulative < ranks[:, None]).sum(axis=1)
            # A row without counts finds no rank (its answer is None below): any index does.
            picked = values[np.clip(positions - 1, 0, len(values) - 1)]
            inside = np.minimum(self.high_ms, np.maximum(self.low_ms, picked))
            columns.append(np.where(positions == 0, 0.0, inside).tolist())
        shown = ((totals > 0) & (self.low_ms <= self.high_ms)).tolist()
        nothing = (None,) * len(qs)
        return [tuple(column[row] for column in columns) if ok else nothing
                for row, ok in enumerate(shown)]
