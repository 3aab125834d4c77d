"""Kept-alive requests to st.App routes must not wait on Nagle's algorithm (~40 ms each)."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as websocket_connect

from tests.conftest import free_port
from web.tcp_nodelay import enable_tcp_nodelay_on_listeners

REPO_ROOT = Path(__file__).resolve().parent.parent

APP_SCRIPT = textwrap.dedent(
    """
    from contextlib import asynccontextmanager

    import streamlit as st
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from web.tcp_nodelay import enable_tcp_nodelay_on_listeners


    async def ping(request):
        return PlainTextResponse("pong")


    @asynccontextmanager
    async def lifespan(app):
        enable_tcp_nodelay_on_listeners()
        yield


    app = st.App("page.py", routes=[Route("/ping", ping)], lifespan=lifespan)
    """
)


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def _listener_like_streamlits() -> socket.socket:
    # Same construction as Streamlit's `_bind_socket`: protocol left at 0.
    sock = socket.socket(family=socket.AF_INET)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_it_sets_nodelay_on_the_listener_and_accepted_sockets_inherit_it() -> None:
    with _listener_like_streamlits() as listener:
        port = listener.getsockname()[1]
        assert enable_tcp_nodelay_on_listeners(port=port) == 1
        assert _nodelay(listener)
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()  # also proves the listener was not closed
            with accepted:
                assert accepted.proto == 0  # why asyncio skips it on its own
                assert _nodelay(accepted)
            client.sendall(b"x")


def test_it_is_a_no_op_when_nothing_needs_fixing() -> None:
    with _listener_like_streamlits() as listener:
        port = listener.getsockname()[1]
        enable_tcp_nodelay_on_listeners(port=port)
        assert enable_tcp_nodelay_on_listeners(port=port) == 0
        assert _nodelay(listener)


def test_it_leaves_listeners_on_other_ports_alone() -> None:
    with _listener_like_streamlits() as target, _listener_like_streamlits() as other:
        assert enable_tcp_nodelay_on_listeners(port=target.getsockname()[1]) == 1
        assert not _nodelay(other)


@pytest.fixture
def streamlit_app(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "page.py").write_text('import streamlit as st\n\nst.write("hello")\n')
    (tmp_path / "app.py").write_text(APP_SCRIPT)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    command += ["--browser.gatherUsageStats", "false"]
    server = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base_url}/ping", server)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            pytest.fail(f"streamlit exited with {server.returncode}:\n{output}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"streamlit did not serve {url} within 20 s")


def test_kept_alive_requests_to_a_route_are_not_delayed(streamlit_app: str) -> None:
    latencies_ms: list[float] = []
    with httpx.Client(base_url=streamlit_app) as client:
        client.get("/ping")  # opens the connection that the measured requests reuse
        for _ in range(20):
            started = time.perf_counter()
            response = client.get("/ping")
            latencies_ms.append((time.perf_counter() - started) * 1000)
            assert response.text == "pong"
    # Without the fix every request here takes ~40 ms (Nagle + delayed ACK); with it ~1 ms.
    assert statistics.median(latencies_ms) < 10, latencies_ms


def test_streamlits_websocket_still_upgrades(streamlit_app: str) -> None:
    stream_url = streamlit_app.replace("http://", "ws://") + "/_stcore/stream"
    with websocket_connect(stream_url, subprotocols=["streamlit"], open_timeout=10) as websocket:
        assert websocket.subprotocol == "streamlit"
