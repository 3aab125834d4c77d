"""Merging latency histograms in their stored form, without a dict per stored histogram.

Reads merge many stored histograms at once (`merge_serialized`: a year of daily rollups for a
percentile); writes add a batch's few samples into one stored histogram (`add_into_serialized`:
the recorder maintaining an hour's and a day's rollup). Both give what decoding, merging and
encoding would (see `analytics.histogram_codec` for the layout they read).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

from analytics.histogram import LatencyHistogram
from analytics.histogram_codec import BIG_ENDIAN, DENSE_TAGS, MIN_MAX, read_varint, unzigzag

# Dense tag -> its counts as numpy reads them: little-endian on any machine.
_NUMPY_DTYPES: dict[int, str] = {3: "<u1", 4: "<u2", 5: "<u4"}


def merge_serialized(blobs: Iterable[bytes]) -> LatencyHistogram:
    """`merge_histograms` over `to_bytes` forms, without building a dict per blob.

    Dense blobs (a day of checks) are summed with numpy: their bodies are joined per count width
    and added up with one `bincount`, so a year of daily histograms costs little more than
    reading each blob's head.
    """
    import numpy as np  # here, not at the top: the recorder (the probe engine) never merges

    merged = LatencyHistogram()
    bodies: dict[int, list[bytes]] = {tag: [] for tag in _NUMPY_DTYPES}
    starts: dict[int, list[int]] = {tag: [] for tag in _NUMPY_DTYPES}
    zeros = 0
    low = high = math.nan
    unpack_min_max = MIN_MAX.unpack_from
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
            blob_zeros, offset = read_varint(data, 1)
            zigzagged, body = read_varint(data, offset + MIN_MAX.size)
        min_ms, max_ms = unpack_min_max(data, offset)
        zeros += blob_zeros
        low = min_ms if not min_ms >= low else low  # nan compares false: the first blob
        high = max_ms if not max_ms <= high else high
        bodies[tag].append(data[body:])
        starts[tag].append(unzigzag(zigzagged))
    if math.isnan(low):
        return merged
    merged.merge(LatencyHistogram({}, zeros, low, high))
    mine = merged.buckets
    for tag, parts in bodies.items():
        if not parts:
            continue
        dtype = np.dtype(_NUMPY_DTYPES[tag])
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
    typecode = DENSE_TAGS.get(tag)
    if typecode is None or other.zeros or not other.buckets or other.count == 0:
        return _merged_slowly(data, other)
    _, offset = read_varint(data, 1)  # zeros: unchanged, `other` has none
    min_ms, max_ms = MIN_MAX.unpack_from(data, offset)
    zigzagged, body = read_varint(data, offset + MIN_MAX.size)
    first = unzigzag(zigzagged)
    counts = array(typecode)
    counts.frombytes(data[body:])
    if BIG_ENDIAN:
        counts.byteswap()
    limit = 1 << (8 * counts.itemsize)
    for index, n in other.buckets.items():
        position = index - first
        if not 0 <= position < len(counts) or counts[position] + n >= limit:
            return _merged_slowly(data, other)
        counts[position] += n
    if BIG_ENDIAN:
        counts.byteswap()
    low = min_ms if other.min_ms is None else min(min_ms, other.min_ms)
    high = max_ms if other.max_ms is None else max(max_ms, other.max_ms)
    return data[:offset] + MIN_MAX.pack(low, high) + data[offset + MIN_MAX.size:body] + (
        counts.tobytes())


def _merged_slowly(data: bytes, other: LatencyHistogram) -> bytes:
    merged = LatencyHistogram.from_bytes(data)
    merged.merge(other)
    return merged.to_bytes()


__all__ = ["add_into_serialized", "merge_serialized"]
