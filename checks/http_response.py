"""One HTTP/1.1 response on one connection, parsed by httptools as its bytes arrive.

`Exchange` is the connection's asyncio protocol: asyncio's callbacks feed the parser, the
parser's callbacks fill in the head and buffer the body, and the one coroutine waiting (see
`checks.http_transport`) is woken. It also holds the instants the probe's phases come from.
"""

from __future__ import annotations

import asyncio

import httptools
import httpx

__all__ = [
    "INCOMPLETE_BODY",
    "NO_RESPONSE",
    "Exchange",
    "PhaseMarks",
    "ResponseHeadersTooLarge",
]


class PhaseMarks:
    """perf_counter() instants of one connection's phases; None until reached."""

    __slots__ = ("connect_started", "connected", "tls_done")

    def __init__(self) -> None:
        self.connect_started: float | None = None
        self.connected: float | None = None
        self.tls_done: float | None = None


# Reading from the socket pauses while this much body is buffered and unread: a target sending
# a huge body must not keep the loop busy filling memory the probe will never look at.
READ_AHEAD_BYTES = 64 * 1024
# llhttp sets no bound on header lines: a target sending them without end, in the head or as
# trailers after a chunked body, would fill memory until the deadline (a gigabyte in a few
# seconds on a fast link). httpcore refused a head past this size too. Interim (1xx) heads,
# chunk framing and trailers all count towards it.
MAX_HEADER_BYTES = 100 * 1024
# What httpcore called these, which describe_http_error reads as "closed before the response
# was complete".
NO_RESPONSE = "Server disconnected without sending a response."
INCOMPLETE_BODY = "peer closed connection without sending complete message body"
_HEADERS_TOO_LARGE = f"response headers larger than {MAX_HEADER_BYTES // 1024} KiB"


class ResponseHeadersTooLarge(httpx.RemoteProtocolError):
    """The response's head, or its trailers, went past MAX_HEADER_BYTES."""


class Exchange(asyncio.Protocol):
    """One response on one connection: bytes go to the parser as they arrive, the parser's
    callbacks fill in the head and buffer the body (up to READ_AHEAD_BYTES), and the one
    coroutine waiting (for the head, or for more body) is woken."""

    def __init__(self, marks: PhaseMarks, head_only: bool) -> None:
        self.marks = marks
        self.head_only = head_only  # a HEAD request: the answer's length describes no body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.status_code = 0
        self.http_version = b"HTTP/1.1"
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.framed = False  # Content-Length or chunked: the body has an end short of EOF
        self.informational = False
        self.head_done = False
        self.header_bytes = 0  # received without carrying body: head, chunk framing, trailers
        self.body_done = False
        self.body = bytearray()
        self.reading_paused = False
        self.eof = False
        self.closed = False
        self.lost: BaseException | None = None  # what broke the connection, if anything
        self.invalid: str | None = None  # why the bytes received are not an HTTP response
        self._waiter: asyncio.Future[None] | None = None
        self._can_write: asyncio.Future[None] | None = None

    # -- asyncio protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.invalid is None and not self.body_done:
            body_buffered = len(self.body)
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                self.body_done = True  # 101 Switching Protocols: what follows is not HTTP
            except httptools.HttpParserError as exc:
                if not (self.head_done and self.head_only):
                    self.invalid = str(exc) or type(exc).__name__
            if not self.body_done and len(self.body) == body_buffered:
                self.header_bytes += len(data)
                if self.header_bytes > MAX_HEADER_BYTES and self.invalid is None:
                    self.invalid = _HEADERS_TOO_LARGE
        if len(self.body) >= READ_AHEAD_BYTES and not self.reading_paused:
            self.reading_paused = True
            if self.transport is not None:
                self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.lost = exc
        self._wake()
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    def pause_writing(self) -> None:
        if self._can_write is None or self._can_write.done():
            self._can_write = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    # -- httptools callbacks --------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.reason = b""
        self.headers = []
        self.framed = False

    def on_status(self, status: bytes) -> None:
        self.reason += status  # may come in pieces

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" or (
            lowered == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            self.framed = True

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        # 1xx answers (100 Continue, 103 Early Hints) come before the real one.
        self.informational = 100 <= status < 200 and status != 101
        if not self.informational:
            self.status_code = status
            self.http_version = b"HTTP/" + self.parser.get_http_version().encode("ascii")
            self.head_done = True

    def on_body(self, body: bytes) -> None:
        if not self.head_only:
            self.body += body

    def on_message_complete(self) -> None:
        if self.informational:
            self.informational = False
        else:
            self.body_done = True

    # -- for the coroutines reading the response ------------------------------------------

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        """Until something arrives or the connection ends."""
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def wait_writable(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            await self._can_write

    def take_body(self) -> bytes:
        data = bytes(self.body)
        self.body.clear()
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        return data

    def broken(self, incomplete: str) -> httpx.TransportError:
        """The error for a response that cannot go on; `incomplete` says what was cut short."""
        if self.invalid is _HEADERS_TOO_LARGE:
            return ResponseHeadersTooLarge(_HEADERS_TOO_LARGE)
        if self.invalid is not None:
            return httpx.RemoteProtocolError(f"invalid HTTP response ({self.invalid})")
        lost = self.lost
        if lost is not None:
            error = httpx.ReadError(str(lost) or type(lost).__name__)
            error.__cause__ = lost
            return error
        return httpx.RemoteProtocolError(incomplete)
