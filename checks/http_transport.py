"""An httpx transport for probes: one HTTP/1.1 exchange per connection, parsed by httptools.

httpx's default transport goes through httpcore: a connection pool that scans every open
connection on each request, anyio wrapping every read and write in a cancel scope, and h11,
which parses the response in Python event by event. A probe needs none of it: it opens one
connection, sends one request and closes, under one total deadline enforced by the caller.
Here the request head is written in one piece and the response goes from asyncio's protocol
callbacks straight into httptools (llhttp, in C); httpx keeps the client API, the Response,
content decoding and redirects.

The connection also notes when connecting started, when it was made and when the TLS handshake
ended; with the instant the head was read, those give the probe its phase timings.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import typing

import httptools
import httpx

__all__ = ["PhaseMarks", "ProbeTransport", "ResponseHeadTooLarge", "phase_marks"]


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
# llhttp sets no bound on a response's head: a target sending header lines without end would
# fill memory until the deadline (a gigabyte in a few seconds on a fast link). httpcore
# refused a head past this size too. Interim (1xx) heads count towards it.
MAX_HEAD_BYTES = 100 * 1024
DEFAULT_PORTS = {b"http": 80, b"https": 443}
# What httpcore called these, which describe_http_error reads as "closed before the response
# was complete".
_NO_RESPONSE = "Server disconnected without sending a response."
_INCOMPLETE_BODY = "peer closed connection without sending complete message body"
_HEAD_TOO_LARGE = f"response head larger than {MAX_HEAD_BYTES // 1024} KiB"


class ResponseHeadTooLarge(httpx.RemoteProtocolError):
    """The response's head went past MAX_HEAD_BYTES without ending."""


class _Exchange(asyncio.Protocol):
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
        self.head_bytes = 0  # received before the head was complete
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
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                self.body_done = True  # 101 Switching Protocols: what follows is not HTTP
            except httptools.HttpParserError as exc:
                if not (self.head_done and self.head_only):
                    self.invalid = str(exc) or type(exc).__name__
            if not self.head_done:
                self.head_bytes += len(data)
                if self.head_bytes > MAX_HEAD_BYTES and self.invalid is None:
                    self.invalid = _HEAD_TOO_LARGE
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
        if self.invalid is _HEAD_TOO_LARGE:
            return ResponseHeadTooLarge(_HEAD_TOO_LARGE)
        if self.invalid is not None:
            return httpx.RemoteProtocolError(f"invalid HTTP response ({self.invalid})")
        lost = self.lost
        if lost is not None:
            error = httpx.ReadError(str(lost) or type(lost).__name__)
            error.__cause__ = lost
            return error
        return httpx.RemoteProtocolError(incomplete)


def _within(
    timeout: float | None, awaitable: typing.Awaitable[typing.Any]
) -> typing.Awaitable[typing.Any]:
    # Probes pass no per-step timeouts (one deadline covers the whole check): awaiting
    # directly spares a coroutine per wait.
    return awaitable if timeout is None else _timed(timeout, awaitable)


async def _timed(timeout: float, awaitable: typing.Awaitable[typing.Any]) -> typing.Any:
    async with asyncio.timeout(timeout):
        return await awaitable


class _ConnectionInfo:
    """Stands in for httpcore's network stream in `response.extensions["network_stream"]`:
    the TLS object (for the certificate) and the phase marks."""

    def __init__(self, transport: asyncio.Transport, marks: PhaseMarks) -> None:
        self._transport = transport
        self._marks = marks

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "phase_marks":
            return self._marks
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        return None


def _close(transport: asyncio.Transport) -> None:
    # abort(), not close(): close() keeps the socket until unsent request bytes are written
    # (forever, if the peer stops reading) and over TLS waits for the peer's close_notify.
    # Nothing sent is still wanted once the check has its answer or has given up.
    transport.abort()


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives; closing it closes the connection, which nothing reuses."""

    def __init__(
        self, exchange: _Exchange, transport: asyncio.Transport, read_timeout: float | None
    ) -> None:
        self._exchange = exchange
        self._transport = transport
        self._read_timeout = read_timeout

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        exchange = self._exchange
        if exchange.head_only:
            return
        while True:
            if exchange.body:
                yield exchange.take_body()
                continue
            if exchange.body_done:
                return
            if exchange.invalid is not None or exchange.lost is not None:
                raise exchange.broken(_INCOMPLETE_BODY)
            if exchange.eof or exchange.closed:
                if exchange.framed:
                    raise exchange.broken(_INCOMPLETE_BODY)
                return  # neither a length nor chunks: the body ends with the connection
            try:
                await _within(self._read_timeout, exchange.wait())
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc)) from exc

    async def aclose(self) -> None:
        _close(self._transport)


def _request_head(request: httpx.Request) -> bytes:
    url = request.url
    lines = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
    headers = request.headers.raw
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    head = b"".join(lines)
    # Every header is one line: a CR or LF inside a name or value would start another.
    line_count = len(headers) + 2
    if head.count(b"\n") != line_count or head.count(b"\r") != line_count:
        raise httpx.LocalProtocolError("a request header contains a line break")
    return head


class ProbeTransport(httpx.AsyncBaseTransport):
    """A fresh connection per request, closed with the response; one SSL context for all."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")
        head = _request_head(request)
        body = await request.aread()
        host = url.raw_host.decode("ascii")
        marks = PhaseMarks()
        exchange = _Exchange(marks, head_only=request.method == "HEAD")
        transport = await self._connect(host, url.port or DEFAULT_PORTS[scheme], exchange,
                                        timeouts.get("connect"))
        try:
            if scheme == b"https":
                sni = request.extensions.get("sni_hostname")
                transport = await self._start_tls(
                    transport, exchange,
                    sni.decode("ascii") if isinstance(sni, bytes) else sni or host,
                    timeouts.get("connect"),
                )
            await self._send(transport, exchange, head + body if body else head,
                             timeouts.get("write"))
            while not exchange.head_done:
                if exchange.invalid is not None or exchange.lost is not None:
                    raise exchange.broken(_NO_RESPONSE)
                if exchange.eof or exchange.closed:
                    raise exchange.broken(_NO_RESPONSE)
                try:
                    await _within(read_timeout, exchange.wait())
                except TimeoutError as exc:
                    raise httpx.ReadTimeout(str(exc)) from exc
        except BaseException:
            _close(transport)
            raise
        return httpx.Response(
            exchange.status_code,
            headers=exchange.headers,
            stream=_Body(exchange, transport, read_timeout),
            extensions={
                "http_version": exchange.http_version,
                "reason_phrase": exchange.reason,
                "network_stream": _ConnectionInfo(transport, marks),
            },
        )

    @staticmethod
    async def _connect(
        host: str, port: int, exchange: _Exchange, timeout: float | None
    ) -> asyncio.Transport:
        loop = asyncio.get_running_loop()
        exchange.marks.connect_started = time.perf_counter()
        try:
            transport, _ = await _within(
                timeout, loop.create_connection(lambda: exchange, host, port)
            )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        exchange.marks.connected = time.perf_counter()
        return transport

    async def _start_tls(
        self, transport: asyncio.Transport, exchange: _Exchange, server_hostname: str,
        timeout: float | None,
    ) -> asyncio.Transport:
        loop = asyncio.get_running_loop()
        try:
            tls = await _within(timeout, loop.start_tls(
                transport, exchange, self._ssl_context, server_hostname=server_hostname,
            ))
        except TimeoutError as exc:
            transport.abort()
            raise httpx.ConnectTimeout(str(exc)) from exc
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            transport.abort()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        if tls is None:  # the peer closed during the handshake
            transport.abort()
            raise httpx.ConnectError("connection closed during the TLS handshake")
        exchange.marks.tls_done = time.perf_counter()
        exchange.transport = tls  # flow control now goes through the TLS layer
        return tls

    @staticmethod
    async def _send(
        transport: asyncio.Transport, exchange: _Exchange, data: bytes, timeout: float | None
    ) -> None:
        if exchange.closed or transport.is_closing():
            lost = exchange.lost or ConnectionResetError("connection closed")
            raise httpx.WriteError(str(lost)) from lost
        transport.write(data)
        try:
            await _within(timeout, exchange.wait_writable())
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc)) from exc


def phase_marks(response: httpx.Response) -> PhaseMarks | None:
    stream = response.extensions.get("network_stream")
    return stream.get_extra_info("phase_marks") if stream is not None else None
