"""The probes' transport: one connection per check, closed when the check ends (whatever the
outcome), with connect, TLS and first-byte instants noted on the connection."""

from __future__ import annotations

import asyncio

import pytest

from checks.http_probe import probe_http
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
