"""The stored form of a latency histogram: its bucket counts as bytes, and back, exactly.

The form is chosen per histogram: dense unless the sparse form is less than a third of its size
(`DENSE_SLACK`). Dense decodes faster, and a batch adding samples inside its range patches the
counts in place (`analytics.histogram_blobs.add_into_serialized`) instead of decoding and
encoding: that is what keeps rollup maintenance cheap. Sparse is kept for widely spread
histograms, where dense would waste space.

    tag (1 byte) | zeros (varint) | min, max (2 x float64 LE, only when count > 0) | body
    tag 1 "empty":  no body
    tag 2 "sparse": entries (varint) | first index (zigzag varint) | first count (varint) |
                    then per entry: varint(((gap - 1) << 3) | c) where c = count - 1 for counts
                    1..7, and c = 7 means a varint(count - 8) follows
    tag 3/4/5 "dense": first index (zigzag varint) | one count per bucket from the first to the
                    last index, as uint8 / uint16 / uint32 LE

An hour of 60 checks spread over 50..300 ms takes about 100 bytes; a day of 1,440 checks is dense.

This module knows bytes, bucket indices and counts only; `LatencyHistogram.to_bytes` and
`from_bytes` are the histogram's side of it.
"""

from __future__ import annotations

import struct
import sys
from array import array

TAG_EMPTY, TAG_SPARSE = 1, 2
# Dense is chosen while it is at most this many times the size of sparse.
DENSE_SLACK = 3
# Dense tag -> the `array` typecode of its counts (little-endian on the wire).
DENSE_TAGS = {3: "B", 4: "H", 5: "I"}
# The exact min and max after the zeros counter.
MIN_MAX = struct.Struct("<dd")
BIG_ENDIAN = sys.byteorder == "big"

Counts = dict[int, int]
Decoded = tuple[Counts, int, float | None, float | None]


def encode_histogram(
    buckets: Counts, zeros: int, min_ms: float | None, max_ms: float | None
) -> bytes:
    """The stored form of a histogram's parts; `decode_histogram` reads it back exactly."""
    if zeros + sum(buckets.values()) == 0:
        return bytes([TAG_EMPTY])
    head = bytearray()
    _put_varint(head, zeros)
    head += MIN_MAX.pack(min_ms, max_ms)
    if not buckets:
        return bytes([TAG_SPARSE]) + head + b"\x00"
    indices = sorted(buckets)
    dense_tag, dense = _encode_dense(indices, buckets)
    # The sparse form is built only when it could win: every entry after the first takes at
    # least one byte, two when its count is above 7.
    if len(dense) <= DENSE_SLACK * _sparse_size_floor(indices, buckets):
        return bytes([dense_tag]) + head + dense
    sparse = _encode_sparse(indices, buckets)
    if len(dense) <= DENSE_SLACK * len(sparse):
        return bytes([dense_tag]) + head + dense
    return bytes([TAG_SPARSE]) + head + sparse


def decode_histogram(data: bytes) -> Decoded:
    """(buckets, zeros, min_ms, max_ms) of a stored histogram."""
    tag = data[0]
    if tag == TAG_EMPTY:
        return {}, 0, None, None
    zeros, offset = read_varint(data, 1)
    min_ms, max_ms = MIN_MAX.unpack_from(data, offset)
    offset += MIN_MAX.size
    if tag == TAG_SPARSE:
        buckets = _decode_sparse(data, offset)
    elif tag in DENSE_TAGS:
        buckets = _decode_dense(data, offset, DENSE_TAGS[tag])
    else:
        raise ValueError(f"unknown histogram encoding {tag}")
    return buckets, zeros, min_ms, max_ms


def _sparse_size_floor(indices: list[int], buckets: Counts) -> int:
    """A lower bound of len(_encode_sparse(...)): never more than the real size."""
    large = sum(1 for n in buckets.values() if n > 7)
    return 2 + len(indices) + large - (1 if buckets[indices[0]] > 7 else 0)


def _encode_sparse(indices: list[int], buckets: Counts) -> bytes:
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


def _decode_sparse(data: bytes, offset: int) -> Counts:
    entries, offset = read_varint(data, offset)
    if entries == 0:
        return {}
    zigzagged, offset = read_varint(data, offset)
    index = unzigzag(zigzagged)
    n, offset = read_varint(data, offset)
    buckets = {index: n}
    for _ in range(entries - 1):
        packed = data[offset]
        if packed < 0x80:
            offset += 1
        else:
            packed, offset = read_varint(data, offset)
        index += (packed >> 3) + 1
        small = packed & 7
        if small == 7:
            extra, offset = read_varint(data, offset)
            buckets[index] = extra + 8
        else:
            buckets[index] = small + 1
    return buckets


def _encode_dense(indices: list[int], buckets: Counts) -> tuple[int, bytes]:
    first, last = indices[0], indices[-1]
    largest = max(buckets.values())
    tag = 3 if largest <= 0xFF else 4 if largest <= 0xFFFF else 5
    counts = array(DENSE_TAGS[tag], bytes(array(DENSE_TAGS[tag]).itemsize * (last - first + 1)))
    for index, n in buckets.items():
        counts[index - first] = n
    if BIG_ENDIAN:
        counts.byteswap()
    out = bytearray()
    _put_varint(out, _zigzag(first))
    return tag, bytes(out) + counts.tobytes()


def _decode_dense(data: bytes, offset: int, typecode: str) -> Counts:
    zigzagged, offset = read_varint(data, offset)
    first = unzigzag(zigzagged)
    counts = array(typecode)
    counts.frombytes(data[offset:])
    if BIG_ENDIAN:
        counts.byteswap()
    return {first + i: n for i, n in enumerate(counts) if n}


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def unzigzag(value: int) -> int:
    """A bucket index from its zigzag form (small magnitudes, either sign, in few bytes)."""
    return value >> 1 if not value & 1 else -((value + 1) >> 1)


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The varint at `offset` and the offset just after it."""
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


__all__ = [
    "BIG_ENDIAN",
    "DENSE_SLACK",
    "DENSE_TAGS",
    "MIN_MAX",
    "TAG_EMPTY",
    "TAG_SPARSE",
    "decode_histogram",
    "encode_histogram",
    "read_varint",
    "unzigzag",
]
