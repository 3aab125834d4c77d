"""An httpx transport for probes: plain asyncio sockets, a fresh connection per request.

httpx's default transport reaches the network through anyio, which wraps every read and write
in a cancel scope (and looks up the current task for each), and through a connection pool that
scans every open connection on each request. A probe needs neither: it opens one connection,
sends one request and closes, under one total deadline enforced by the caller. Doing that on
asyncio's own transports cuts the CPU per check by about half (see bench/engine_bench.py).

The stream also notes when the connection, the TLS handshake and the first response byte
happened, which gives the probe its phase timings without httpcore's per-event trace hooks.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import typing
from collections.abc import Iterable

import httpcore
import httpx

__all__ = ["PhaseMarks", "ProbeTransport", "phase_marks"]


class PhaseMarks:
    """perf_counter() instants of one connection's phases; None until reached."""

    __slots__ = ("connect_started", "connected", "first_byte", "request_sent", "tls_done")

    def __init__(self) -> None:
        self.connect_started: float | None = None
        self.connected: float | None = None
        self.tls_done: float | None = None
        self.request_sent: float | None = None
        self.first_byte: float | None = None


# Reading from the socket pauses while this much is buffered and unread: a target sending a
# huge body must not keep the loop busy filling memory the probe will never look at.
READ_AHEAD_BYTES = 64 * 1024


class _Protocol(asyncio.Protocol):
    """Buffers what arrives (up to READ_AHEAD_BYTES) and wakes the one reader waiting for it."""

    def __init__(self, marks: PhaseMarks) -> None:
        self.marks = marks
        self.transport: asyncio.Transport | None = None
        self.reading_paused = False
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None
        self._can_write: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.marks.first_byte is None and self.marks.request_sent is not None:
            self.marks.first_byte = time.perf_counter()
        self.buffer += data
        if len(self.buffer) >= READ_AHEAD_BYTES and not self.reading_paused:
            self.reading_paused = True
            if self.transport is not None:
                self.transport.pause_reading()
        self._wake()

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self.reading_paused and len(self.buffer) < READ_AHEAD_BYTES and not self.closed:
            self.reading_paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        return data

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    def pause_writing(self) -> None:
        if self._can_write is None or self._can_write.done():
            self._can_write = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait_readable(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def wait_writable(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            await self._can_write


def _within(
    timeout: float | None, awaitable: typing.Awaitable[typing.Any]
) -> typing.Awaitable[typing.Any]:
    # Probes pass no per-step timeouts (one deadline covers the whole check): awaiting
    # directly spares a coroutine per read and write.
    return awaitable if timeout is None else _timed(timeout, awaitable)


async def _timed(timeout: float, awaitable: typing.Awaitable[typing.Any]) -> typing.Any:
    async with asyncio.timeout(timeout):
        return await awaitable


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._tls = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof and not protocol.closed:
            try:
                await _within(timeout, protocol.wait_readable())
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(str(exc)) from exc
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error)) from protocol.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.closed or self._transport.is_closing():
            error = protocol.error or ConnectionResetError("connection closed")
            raise httpcore.WriteError(str(error)) from error
        self._transport.write(buffer)
        protocol.marks.request_sent = time.perf_counter()
        try:
            await _within(timeout, protocol.wait_writable())
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc

    async def aclose(self) -> None:
        # No TLS close_notify exchange: a misbehaving peer could hold the socket open waiting.
        if self._tls:
            self._transport.abort()
        else:
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            transport = await _within(timeout, loop.start_tls(
                self._transport, self._protocol, ssl_context, server_hostname=server_hostname,
            ))
        except TimeoutError as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            self._transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the peer closed during the handshake
            raise httpcore.ConnectError("connection closed during the TLS handshake")
        self._protocol.marks.tls_done = time.perf_counter()
        self._protocol.transport = transport  # flow control now goes through the TLS layer
        stream = _Stream(transport, self._protocol)
        stream._tls = True
        return stream

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info == "is_readable":
            protocol = self._protocol
            return bool(protocol.buffer) or protocol.eof or protocol.closed
        if info == "phase_marks":
            return self._protocol.marks
        return None


class _Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        marks = PhaseMarks()
        protocol = _Protocol(marks)
        marks.connect_started = time.perf_counter()
        local = (local_address, 0) if local_address else None
        try:
            transport, _ = await _within(timeout, loop.create_connection(
                lambda: protocol, host, port, local_addr=local,
            ))
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        marks.connected = time.perf_counter()
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _Stream(transport, protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not probed")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _NoLock:
    """Stands in for httpcore's per-connection state lock: each connection here carries exactly
    one request, so there is nothing to serialise, and anyio's lock costs two extra trips
    through the event loop per use."""

    async def __aenter__(self) -> _NoLock:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _OneShotConnections:
    """httpcore's interface for a pool, without the pool: one new connection per request.

    Connecting and the TLS handshake happen here (not in httpcore.AsyncHTTPConnection), so
    their times come from the stream's marks; the HTTP/1.1 exchange is httpcore's own.
    """

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context
        self._backend = _Backend()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = request.url.origin
        timeouts = request.extensions.get("timeout", {})
        host = origin.host.decode("ascii")
        stream = await self._backend.connect_tcp(host, origin.port, timeout=timeouts.get("connect"))
        try:
            if origin.scheme == b"https":
                sni = request.extensions.get("sni_hostname")
                stream = await stream.start_tls(
                    self._ssl_context,
                    server_hostname=sni.decode("ascii") if isinstance(sni, bytes) else sni or host,
                    timeout=timeouts.get("connect"),
                )
            connection = httpcore.AsyncHTTP11Connection(origin=origin, stream=stream)
            connection._state_lock = _NoLock()  # type: ignore[assignment]
            response = await connection.handle_async_request(request)
        except BaseException:
            await stream.aclose()
            raise
        response.stream = _ClosingStream(response.stream, connection)
        return response

    async def aclose(self) -> None:
        pass  # nothing is kept open between requests

    async def __aenter__(self) -> _OneShotConnections:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _ClosingStream:
    """The response body; closing it also closes the connection, which nothing will reuse."""

    def __init__(
        self, body: typing.AsyncIterable[bytes], connection: httpcore.AsyncHTTP11Connection
    ) -> None:
        self._body = body
        self._connection = connection

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        async for part in self._body:
            yield part

    async def aclose(self) -> None:
        try:
            if hasattr(self._body, "aclose"):
                await self._body.aclose()
        finally:
            await self._connection.aclose()


class ProbeTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (its request/response mapping and error translation) over
    `_OneShotConnections` instead of httpcore's anyio-backed pool."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, limits=httpx.Limits(max_keepalive_connections=0))
        # The one documented-by-source seam httpx offers for another httpcore interface.
        self._pool = _OneShotConnections(ssl_context)  # type: ignore[assignment]


def phase_marks(response: httpx.Response) -> PhaseMarks | None:
    stream = response.extensions.get("network_stream")
    return stream.get_extra_info("phase_marks") if stream is not None else None
