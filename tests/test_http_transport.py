"""The probes' transport: one connection per check, closed when the check ends (whatever the
outcome), with connect, TLS and first-byte instants noted on the connection."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest
from pydantic import SecretStr

from checks.http_probe import probe_http
from domain.check_options import HttpOptions
from tests.targets import FaultTarget

pytestmark = pytest.mark.anyio


async def test_a_keep_alive_server_sees_each_connection_closed(client) -> None:
    """The server would keep the connection for another request: the probe must not."""
    opened: list[asyncio.Event] = []

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        closed = asyncio.Event()
        opened.append(closed)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
        await writer.drain()
        await reader.read()  # b"" once the client closes its side
        closed.set()
        writer.close()

    server = await asyncio.start_server(keep_alive, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for _ in range(5):
            result = await probe_http(f"http://127.0.0.1:{port}/", 2.0, client)
            assert result.outcome == "up", result.reason
        async with asyncio.timeout(2):
            for closed in opened:
                await closed.wait()
    finally:
        server.close()
    assert len(opened) == 5  # a new connection each time, none reused


async def test_tls_phases_come_from_the_connection(target: FaultTarget, client) -> None:
    result = await probe_http(target.tls_url("good"), 2.0, client)

    assert result.outcome == "up", result.reason
    phases = result.phases
    assert phases["connect"] > 0 and phases["tls"] > 0 and phases["ttfb"] > 0
    assert phases["connect"] + phases["tls"] + phases["ttfb"] <= phases["total"]


async def _answer_with(raw: bytes):
    """A server that reads one request head and sends `raw` (then closes): returns the URL,
    the server, and the request heads it received."""
    received: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(raw)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/", server, received


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (b"HTTP/1.0 200 OK\r\n\r\nAll systems go", "All systems go"),  # ends with the connection
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\nAll \r\n3\r\nsys\r\n7\r\ntems go\r\n0\r\n\r\n",
            "All systems go",
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nAll systems go",
            "All systems go",
        ),
    ],
    ids=["until close", "chunked", "after 100 Continue"],
)
async def test_every_way_of_framing_a_body_is_read(client, raw: bytes, body: str) -> None:
    url, server, _ = await _answer_with(raw)
    try:
        result = await probe_http(url, 2.0, client, HttpOptions(keyword=body))
    finally:
        server.close()
    assert (result.outcome, result.http_status, result.reason) == ("up", 200, None)


async def test_a_body_cut_short_is_reported(client) -> None:
    url, server, _ = await _answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    try:
        result = await probe_http(url, 2.0, client, HttpOptions(keyword="partial"))
    finally:
        server.close()
    assert (result.outcome, result.reason) == (
        "down", "connection closed before the response was complete"
    )


async def test_a_head_request_reads_no_body(client) -> None:
    url, server, received = await _answer_with(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"  # the length of the GET's body
    )
    try:
        result = await probe_http(url, 2.0, client, HttpOptions(method="HEAD"))
    finally:
        server.close()
    assert (result.outcome, result.http_status, result.reason) == ("up", 200, None)
    assert received[0].startswith(b"HEAD / HTTP/1.1\r\n")


async def test_a_line_break_in_a_header_is_never_sent(client) -> None:
    url, server, received = await _answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    try:
        # Options refuse such values; built past their validation (as a row stored before the
        # rule would be), the token must still be stopped by the transport's own check.
        options = HttpOptions.model_construct(bearer_token=SecretStr("abc\r\nX-Injected: 1"))
        result = await probe_http(url, 2.0, client, options)
    finally:
        server.close()
    assert (result.outcome, result.reason) == ("down", "a request header contains a line break")
    assert received == []


@pytest.mark.parametrize(
    "start",
    [
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n",
    ],
    ids=["head", "trailers"],
)
async def test_header_lines_that_never_end_are_cut_off(client, start: bytes) -> None:
    """Header lines without end (in the head, or as trailers after a chunked body) must not
    fill memory until the deadline."""

    async def endless_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(start)
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                writer.write(b"X-Filler: " + b"a" * 1000 + b"\r\n")
                await writer.drain()

    server = await asyncio.start_server(endless_headers, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        result = await probe_http(url, 5.0, client)
    finally:
        server.close()
    assert (result.outcome, result.reason) == ("down", "response headers larger than 100 KiB")
    assert result.latency_ms is not None
    assert result.latency_ms < 1000  # refused as soon as they are too long, not at the deadline


def _has_socket(local_port: int) -> bool:
    """Whether a process holds a TCP socket on 127.0.0.1:`local_port` (one the kernel still
    finishes closing after its process let go has no inode)."""
    with open("/proc/net/tcp") as table:
        for row in list(table)[1:]:
            fields = row.split()
            if int(fields[1].split(":")[1], 16) == local_port and fields[9] != "0":
                return True
    return False


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads the kernel's socket table")
async def test_a_request_the_target_never_reads_leaves_no_socket_open(client) -> None:
    """The request is still waiting to be written when the deadline ends the check."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        with contextlib.suppress(asyncio.CancelledError):  # the test's loop ends
            await asyncio.sleep(60)

    server = await asyncio.start_server(never_reads, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        # More than socket buffers hold; past the options' body limit, which is not under test.
        options = HttpOptions.model_construct(method="POST", body="x" * 8_000_000)
        result = await probe_http(url, 0.5, client, options)
        await asyncio.sleep(0.1)
        assert (result.outcome, len(accepted)) == ("down", 1)
        probe_port = accepted[0].get_extra_info("peername")[1]
        assert not _has_socket(probe_port)  # the target's end is still open; the probe's is not
    finally:
        for writer in accepted:
            writer.transport.abort()
        server.close()
