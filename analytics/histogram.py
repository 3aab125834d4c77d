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
window's percentiles are a merge of pre-aggregated hourly or daily histograms.

Serialized form (`to_bytes`), chosen per histogram: dense unless the sparse form is less than a
third of its size (`DENSE_SLACK`). Dense decodes faster, and a batch adding samples inside its
range patches the counts in place (`add_into_serialized`) instead of decoding and encoding: that
is what keeps rollup maintenance cheap. Sparse is kept for widely spread histograms, where dense
would waste space.

    tag (1 byte) | zeros (varint) | min, max (2 x float64 LE, only when count > 0) | body
    tag 1 "empty":  no body
    tag 2 "sparse": entries (varint) | first index (zigzag varint) | first count (varint) |
                    then per entry: varint(((gap - 1) << 3) | c) where c = count - 1 for counts
                    1..7, and c = 7 means a varint(count - 8) follows
    tag 3/4/5 "dense": first index (zigzag varint) | one count per bucket from the first to the
                    last index, as uint8 / uint16 / uint32 LE

An hour of 60 checks spread over 50..300 ms takes about 100 bytes; a day of 1,440 checks is dense.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_INV_LOG_GAMMA = 1.0 / math.log(GAMMA)
_VALUE_FACTOR = 2.0 / (GAMMA + 1.0)

_TAG_EMPTY, _TAG_SPARSE = 1, 2
# Dense is chosen while it is at most this many times the size of sparse.
DENSE_SLACK = 3
_DENSE_TAGS = {3: "B", 4: "H", 5: "I"}
_NUMPY_DTYPES = {3: np.dtype("<u1"), 4: np.dtype("<u2"), 5: np.dtype("<u4")}
_MIN_MAX = struct.Struct("<dd")
_BIG_ENDIAN = sys.byteorder == "big"


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
        if self.count == 0:
            return bytes([_TAG_EMPTY])
        head = bytearray()
        _put_varint(head, self.zeros)
        head += _MIN_MAX.pack(self.min_ms, self.max_ms)
        if not self.buckets:
            return bytes([_TAG_SPARSE]) + head + b"\x00"
        indices = sorted(self.buckets)
        dense_tag, dense = _encode_dense(indices, self.buckets)
        # The sparse form is built only when it could win: every entry after the first takes at
        # least one byte, two when its count is above 7.
        if len(dense) <= DENSE_SLACK * _sparse_size_floor(indices, self.buckets):
            return bytes([dense_tag]) + head + dense
        sparse = _encode_sparse(indices, self.buckets)
        if len(dense) <= DENSE_SLACK * len(sparse):
            return bytes([dense_tag]) + head + dense
        return bytes([_TAG_SPARSE]) + head + sparse

    @classmethod
    def from_bytes(cls, data: bytes) -> LatencyHistogram:
        tag = data[0]
        if tag == _TAG_EMPTY:
            return cls()
        zeros, offset = _get_varint(data, 1)
        min_ms, max_ms = _MIN_MAX.unpack_from(data, offset)
        offset += _MIN_MAX.size
        if tag == _TAG_SPARSE:
            buckets = _decode_sparse(data, offset)
        elif tag in _DENSE_TAGS:
            buckets = _decode_dense(data, offset, _DENSE_TAGS[tag])
        else:
            raise ValueError(f"unknown histogram encoding {tag}")
        return cls(buckets, zeros, min_ms, max_ms)


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


def merge_serialized(blobs: Iterable[bytes]) -> LatencyHistogram:
    """`merge_histograms` over `to_bytes` forms, without building a dict per blob.

    Dense blobs (a day of checks) are summed with numpy: their bodies are joined per count width
    and added up with one `bincount`, so a year of daily histograms costs little more than
    reading each blob's head.
    """
    merged = LatencyHistogram()
    bodies: dict[int, list[bytes]] = {tag: [] for tag in _NUMPY_DTYPES}
    starts: dict[int, list[int]] = {tag: [] for tag in _NUMPY_DTYPES}
    zeros = 0
    low = high = math.nan
    unpack_min_max = _MIN_MAX.unpack_from
    for data in blobs:
        tag = data[0]
        if tag not in bodies:
            merged.merge(LatencyHistogram.from_bytes(data))
            continue
        # The usual head, read inline: fewer than 128 zeros, a first index of one or two bytes.
        if data[1] < 0x80 and data[18] < 0x80:
            blob_zeros, offset, zigzagged, body = data[1], 2, data[18], 19
        elif data[1] < 0x80 and data[19] < 0x80:
            blob_zeros, offset, zigzagged, body = data[1], 2, (data[18] & 0x7F) | data[19] << 7, 20
        else:
            blob_zeros, offset = _get_varint(data, 1)
            zigzagged, body = _get_varint(data, offset + _MIN_MAX.size)
        min_ms, max_ms = unpack_min_max(data, offset)
        zeros += blob_zeros
        low = min_ms if not min_ms >= low else low  # nan compares false: the first blob
        high = max_ms if not max_ms <= high else high
        bodies[tag].append(data[body:])
        starts[tag].append(_unzigzag(zigzagged))
    if math.isnan(low):
        return merged
    merged.merge(LatencyHistogram({}, zeros, low, high))
    mine = merged.buckets
    for tag, parts in bodies.items():
        if not parts:
            continue
        dtype = _NUMPY_DTYPES[tag]
        counts = np.frombuffer(b"".join(parts), dtype)
        lengths = np.fromiter((len(part) // dtype.itemsize for part in parts), np.int64,
                              len(parts))
        # Each count's bucket index: its blob's first index plus its position in the blob.
        shift = np.asarray(starts[tag], np.int64) - (np.cumsum(lengths) - lengths)
        indices = np.repeat(shift, lengths) + np.arange(len(counts))
        first = int(indices.min())
        totals = np.bincount(indices - first, weights=counts).astype(np.int64)
        present = np.flatnonzero(totals)
        for index, n in zip((present + first).tolist(), totals[present].tolist(), strict=True):
            mine[index] = mine.get(index, 0) + n
    return merged


def add_into_serialized(data: bytes, other: LatencyHistogram) -> bytes:
    """`to_bytes` of (`from_bytes(data)` merged with `other`), usually without decoding `data`.

    The recorder adds a few samples per batch to an hour's or a day's histogram; a dense blob
    whose range already holds every new sample is patched in place. That gives the same bytes as
    a full re-encode: the dense form keeps its size, and the sparse form never shrinks when
    samples are added, so dense stays within `DENSE_SLACK` times the sparse size.
    """
    tag = data[0]
    typecode = _DENSE_TAGS.get(tag)
    if typecode is None or other.zeros or not other.buckets or other.count == 0:
        return _merged_slowly(data, other)
    _, offset = _get_varint(data, 1)  # zeros: unchanged, `other` has none
    min_ms, max_ms = _MIN_MAX.unpack_from(data, offset)
    zigzagged, body = _get_varint(data, offset + _MIN_MAX.size)
    first = _unzigzag(zigzagged)
    counts = array(typecode)
    counts.frombytes(data[body:])
    if _BIG_ENDIAN:
        counts.byteswap()
    limit = 1 << (8 * counts.itemsize)
    for index, n in other.buckets.items():
        position = index - first
        if not 0 <= position < len(counts) or counts[position] + n >= limit:
            return _merged_slowly(data, other)
        counts[position] += n
    if _BIG_ENDIAN:
        counts.byteswap()
    low = min_ms if other.min_ms is None else min(min_ms, other.min_ms)
    high = max_ms if other.max_ms is None else max(max_ms, other.max_ms)
    return data[:offset] + _MIN_MAX.pack(low, high) + data[offset + _MIN_MAX.size:body] + (
        counts.tobytes())


def _merged_slowly(data: bytes, other: LatencyHistogram) -> bytes:
    merged = LatencyHistogram.from_bytes(data)
    merged.merge(other)
    return merged.to_bytes()


def _sparse_size_floor(indices: list[int], buckets: dict[int, int]) -> int:
    """A lower bound of len(_encode_sparse(...)): never more than the real size."""
    large = sum(1 for n in buckets.values() if n > 7)
    return 2 + len(indices) + large - (1 if buckets[indices[0]] > 7 else 0)


def _encode_sparse(indices: list[int], buckets: dict[int, int]) -> bytes:
    out = bytearray()
    _put_varint(out, len(indices))
    first = indices[0]
    _put_varint(out, _zigzag(first))
    _put_varint(out, buckets[first])
    previous = first
    append = out.append
    for index in indices[1:]:
        n = buckets[index]
        # Neighbouring buckets with small counts are the common case: one byte for both.
        packed = ((index - previous - 1) << 3) | (n - 1 if n <= 7 else 7)
        if packed < 0x80:  # single-byte varints inline: this loop runs per bucket
            append(packed)
        else:
            _put_varint(out, packed)
        if n > 7:
            _put_varint(out, n - 8)
        previous = index
    return bytes(out)


def _decode_sparse(data: bytes, offset: int) -> dict[int, int]:
    entries, offset = _get_varint(data, offset)
    if entries == 0:
        return {}
    zigzagged, offset = _get_varint(data, offset)
    index = _unzigzag(zigzagged)
    n, offset = _get_varint(data, offset)
    buckets = {index: n}
    for _ in range(entries - 1):
        packed = data[offset]
        if packed < 0x80:
            offset += 1
        else:
            packed, offset = _get_varint(data, offset)
        index += (packed >> 3) + 1
        small = packed & 7
        if small == 7:
            extra, offset = _get_varint(data, offset)
            buckets[index] = extra + 8
        else:
            buckets[index] = small + 1
    return buckets


def _encode_dense(indices: list[int], buckets: dict[int, int]) -> tuple[int, bytes]:
    first, last = indices[0], indices[-1]
    largest = max(buckets.values())
    tag = 3 if largest <= 0xFF else 4 if largest <= 0xFFFF else 5
    counts = array(_DENSE_TAGS[tag], bytes(array(_DENSE_TAGS[tag]).itemsize * (last - first + 1)))
    for index, n in buckets.items():
        counts[index - first] = n
    if _BIG_ENDIAN:
        counts.byteswap()
    out = bytearray()
    _put_varint(out, _zigzag(first))
    return tag, bytes(out) + counts.tobytes()


def _decode_dense(data: bytes, offset: int, typecode: str) -> dict[int, int]:
    zigzagged, offset = _get_varint(data, offset)
    first = _unzigzag(zigzagged)
    counts = array(typecode)
    counts.frombytes(data[offset:])
    if _BIG_ENDIAN:
        counts.byteswap()
    return {first + i: n for i, n in enumerate(counts) if n}


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value >> 1 if not value & 1 else -((value + 1) >> 1)


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _get_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


__all__ = [
    "GAMMA",
    "RELATIVE_ACCURACY",
    "LatencyHistogram",
    "add_into_serialized",
    "add_to_each",
    "bucket_index",
    "bucket_value",
    "merge_histograms",
    "merge_serialized",
]
