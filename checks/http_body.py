"""A response body read up to MAX_BODY_BYTES, after undoing its Content-Encoding.

httpx inflates each chunk received in one call: 64 KiB of a gzip bomb became 64 MiB at once,
before any cap could apply (a 1 MB body inflating to 1 GiB lifted the engine's memory by 135 MB).
Here each inflation step may produce no more than the room left under the cap (zlib's
`max_length`; what does not fit stays compressed), so a body of any ratio costs the cap and a
chunk. The encodings httpx decodes are decoded (gzip and deflate, stacked or not), the others
passed on as they are, as httpx does.
"""

from __future__ import annotations

import zlib

import httpx

MAX_BODY_BYTES = 1024 * 1024
# What an inner encoding hands the one outside it per step, when encodings are stacked.
_STEP_BYTES = 64 * 1024
# Each stacked encoding keeps a 32 KiB window: a header listing thousands must not cost that
# thousands of times. Real servers send one.
MAX_ENCODINGS = 4
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class _Passthrough:
    """The bytes as they came: no encoding, or one httpx would not decode either."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> None:
        self._pending += data

    def read(self, limit: int) -> bytes:
        piece, self._pending = self._pending[:limit], self._pending[limit:]
        return piece

    @property
    def ended(self) -> bool:
        return False  # the body ends with the response


class _Inflate:
    """One gzip or deflate stream, inflated at most `limit` bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._decompressor = zlib.decompressobj(_WBITS[encoding])
        self._pending = b""  # received, not inflated yet
        self._first = True

    def feed(self, data: bytes) -> None:
        if not self.ended:  # zlib would keep what follows the end (unused_data) without bound
            self._pending += data

    @property
    def ended(self) -> bool:
        """The stream's end was reached: whatever follows it is not part of the body."""
        return self._decompressor.eof

    def read(self, limit: int) -> bytes:
        """Up to `limit` inflated bytes; b"" when more input is needed (or the stream ended)."""
        try:
            piece = self._decompressor.decompress(self._pending, limit)
        except zlib.error as exc:
            if self._first and self._encoding == "deflate":
                # Some servers send raw deflate without the zlib wrapper; httpx accepts both.
                self._first = False
                self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.read(limit)
            raise httpx.DecodingError(str(exc)) from exc
        if self._pending:
            self._first = False
        self._pending = self._decompressor.unconsumed_tail
        return piece


_Stage = _Passthrough | _Inflate


class BodyDecoder:
    """The body's encodings undone in reverse order of listing, one bounded step at a time:
    `feed` what arrives, then `read` until it answers b"" (it needs more)."""

    def __init__(self, content_encodings: list[str]) -> None:
        names = [name.strip().lower() for name in content_encodings]
        known = [name for name in names if name in _WBITS]
        if len(known) > MAX_ENCODINGS:
            raise httpx.DecodingError(f"more than {MAX_ENCODINGS} content encodings")
        # Listed in the order they were applied: the last one applied is undone first.
        self._stages: list[_Stage] = [_Inflate(name) for name in reversed(known)]
        if not self._stages:
            self._stages.append(_Passthrough())

    def feed(self, raw: bytes) -> None:
        self._stages[0].feed(raw)

    @property
    def ended(self) -> bool:
        return self._stages[-1].ended

    def read(self, limit: int) -> bytes:
        return self._read(len(self._stages) - 1, limit)

    def _read(self, index: int, limit: int) -> bytes:
        stage = self._stages[index]
        while True:
            piece = stage.read(limit)
            if piece or index == 0 or stage.ended:
                return piece
            inner = self._read(index - 1, _STEP_BYTES)
            if not inner:
                return b""
            stage.feed(inner)


async def read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    """The decoded body up to MAX_BODY_BYTES, and whether it reached them (then it is cut
    there, and nothing past them is received or inflated)."""
    decoder = BodyDecoder(response.headers.get_list("content-encoding", split_commas=True))
    content = bytearray()
    async for raw in response.aiter_raw():
        decoder.feed(raw)
        while piece := decoder.read(MAX_BODY_BYTES - len(content)):
            content += piece
            if len(content) >= MAX_BODY_BYTES:
                return bytes(content), True
        if decoder.ended:
            break
    return bytes(content), False


__all__ = ["MAX_BODY_BYTES", "MAX_ENCODINGS", "BodyDecoder", "read_capped"]
