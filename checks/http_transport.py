"""An httpx transport for probes: one HTTP/1.1 exchange per connection, parsed by httptools.

httpx's default transport goes through httpcore: a connection pool that scans every open
connection on each request, anyio wrapping every read and write in a cancel scope, and h11,
which parses the response in Python event by event. A probe needs none of it: it opens one
connection, sends one request and closes, under one total deadline enforced by the caller.
Here the request head is written in one piece and the response goes from asyncio's protocol
callbacks straight into httptools (llhttp, in C; see `checks.http_response`); httpx keeps the
client API, the Response, content decoding and redirects.

The connection also notes when connecting started, when it was made and when the TLS handshake
ended; with the instant the head was read, those give the probe its phase timings. It connects
to the first of the host's addresses to answer (`checks.happy_eyeballs`): those the probe
resolved (the request's "addresses" extension), or the host's own when none are given.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import typing

import httpx

from checks.addresses import resolve_addresses
from checks.happy_eyeballs import Attempts, connect_first
from checks.http_response import (
    INCOMPLETE_BODY,
    NO_RESPONSE,
    Exchange,
    PhaseMarks,
    ResponseHeadersTooLarge,
)
from checks.trust import TrustContext

__all__ = [
    "ClosedAfterHandshake", "PhaseMarks", "ProbeTransport", "ResponseHeadersTooLarge",
    "phase_marks",
]


class ClosedAfterHandshake(httpx.ReadError):
    """The server ended the connection right after the TLS handshake, before answering.

    A server refusing a client without a certificate sends an alert and closes; on a fast
    link the reset that follows the request can overtake the alert, so the closing is all the
    probe sees. Said only when the monitor presented no client certificate.
    """

DEFAULT_PORTS = {b"http": 80, b"https": 443}


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

    def __init__(
        self, transport: asyncio.Transport, marks: PhaseMarks, trust: TrustContext | None
    ) -> None:
        self._transport = transport
        self._marks = marks
        self._trust = trust

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "phase_marks":
            return self._marks
        if info == "trust":
            return self._trust
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
        self, exchange: Exchange, transport: asyncio.Transport, read_timeout: float | None
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
                raise exchange.broken(INCOMPLETE_BODY)
            if exchange.eof or exchange.closed:
                if exchange.framed:
                    raise exchange.broken(INCOMPLETE_BODY)
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
    """A fresh connection per request, closed with the response; one SSL context for all
    (the `trust` it was built from, when known, tells which store trusted a certificate)."""

    def __init__(self, ssl_context: ssl.SSLContext, trust: TrustContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._trust = trust

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
        exchange = Exchange(marks, head_only=request.method == "HEAD")
        transport = await self._connect(
            host, url.port or DEFAULT_PORTS[scheme], exchange, timeouts.get("connect"),
            request.extensions.get("addresses"), request.extensions.get("connect_attempts"))
        try:
            if scheme == b"https":
                transport = await self._start_tls(transport, exchange, host,
                                                  timeouts.get("connect"))
            await self._send(transport, exchange, head + body if body else head,
                             timeouts.get("write"))
            while not exchange.head_done:
                if exchange.invalid is not None or exchange.lost is not None:
                    raise self._broken_before_response(exchange)
                if exchange.eof or exchange.closed:
                    raise self._broken_before_response(exchange)
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
                "network_stream": _ConnectionInfo(transport, marks, self._trust),
            },
        )

    def _broken_before_response(self, exchange: Exchange) -> httpx.TransportError:
        error = exchange.broken(NO_RESPONSE)
        presents_certificate = self._trust is not None and bool(
            self._trust.setting.client_certificate)
        closed_early = exchange.invalid is None and exchange.header_bytes == 0 and (
            exchange.lost is None or isinstance(exchange.lost, ConnectionError))
        if exchange.marks.tls_done is None or presents_certificate or not closed_early:
            return error
        hint = ClosedAfterHandshake(
            "connection closed right after the TLS handshake, before any response: if the "
            "server requires a client certificate, give the monitor one")
        hint.__cause__ = error
        return hint

    @staticmethod
    async def _connect(
        host: str, port: int, exchange: Exchange, timeout: float | None,
        addresses: typing.Sequence[str] | None, attempts: Attempts | None,
    ) -> asyncio.Transport:
        loop = asyncio.get_running_loop()
        if addresses is None:
            # Resolved here (the address policy applied) when the caller did not resolve.
            addresses, _ = await resolve_addresses(host, port)
        exchange.marks.connect_started = time.perf_counter()
        try:
            (transport, _), _ = await _within(timeout, connect_first(
                addresses, port,
                lambda address: loop.create_connection(lambda: exchange, address, port),
                lambda sock: loop.create_connection(lambda: exchange, sock=sock),
                attempts))
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        exchange.marks.connected = time.perf_counter()
        return transport

    async def _start_tls(
        self, transport: asyncio.Transport, exchange: Exchange, server_hostname: str,
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
        transport: asyncio.Transport, exchange: Exchange, data: bytes, timeout: float | None
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
