"""A hostile target, or a hostile monitor, against the probes: what the monitor adds to its
requests stays with its own origin, a compressed body cannot inflate past the cap in memory,
and no probe connects to an address in UPWATCH_PROBE_DENY_NETS.

Everything here stays on this machine: servers listen on 127.0.0.1 and 127.0.0.2, and where a
name must resolve to another address the test answers the lookup itself and replaces the
loop's connect with one that only counts (and never connects).
"""

from __future__ import annotations

import asyncio
import functools
import socket
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from checks.address_policy import denial_reason
from checks.dns_probe import probe_dns
from checks.http_body import MAX_ENCODINGS
from checks.http_probe import probe_http
from checks.http_request import make_probe_client
from checks.tcp_probe import ProbeFailure, probe_tcp
from checks.tls_probe import probe_tls
from config.network_ranges import parse_network
from config.settings import Settings, get_settings
from domain.check_options import DnsOptions, HttpOptions, TcpOptions

pytestmark = pytest.mark.anyio

TIMEOUT = 2.0
OTHER_LOOPBACK = "127.0.0.2"  # still this machine: a second address to fence off
METADATA = "169.254.169.254"


# -- a server on the test's loop that records what reaches it ----------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingServer:
    """Answers each request with `answer(path)` and keeps every connection and request."""

    answer: Callable[[str], bytes]
    host: str = "127.0.0.1"
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.sockets[0].getsockname()[1]}"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> RecordingServer:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            path = request_line.split(" ")[1]
            self.requests.append(Seen(path, headers, body))
            writer.write(self.answer(path))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def _response(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _redirect(location: str, status: str = "302 Found") -> bytes:
    return _response(status, headers={"Location": location})


def _ok(_path: str) -> bytes:
    return _response("200 OK", b"All systems go")


# -- 1. what the monitor adds stays with its origin ---------------------------------------

SECRETS = {"X-Api-Key": "key-123", "Cookie": "session=abc"}
SENT_BY_MONITOR = ("x-api-key", "cookie", "authorization")


async def test_another_origin_gets_none_of_the_monitor_s_headers(client) -> None:
    """127.0.0.1:A redirects to 127.0.0.1:B: another port is another origin."""
    async with (
        RecordingServer(_ok) as landing,
        RecordingServer(lambda _p: _redirect(f"{landing.origin}/landing")) as start,
    ):
        options = HttpOptions(headers=SECRETS, bearer_token=SecretStr("token-456"))
        result = await probe_http(f"{start.origin}/", TIMEOUT, client, options)

    assert (result.outcome, result.reason) == ("up", None)
    first, = start.requests
    assert first.headers["x-api-key"] == "key-123"  # the monitored origin gets them
    assert first.headers["authorization"] == "Bearer token-456"
    landed, = landing.requests
    assert [name for name in SENT_BY_MONITOR if name in landed.headers] == []
    assert landed.headers["user-agent"].startswith("Upwatch/")  # the probe's own stay


async def test_the_monitor_can_keep_its_headers_across_origins(client) -> None:
    async with (
        RecordingServer(_ok) as landing,
        RecordingServer(lambda _p: _redirect(f"{landing.origin}/landing")) as start,
    ):
        options = HttpOptions(
            headers=SECRETS, bearer_token=SecretStr("token-456"), keep_headers_on_redirect=True
        )
        result = await probe_http(f"{start.origin}/", TIMEOUT, client, options)

    assert result.outcome == "up", result.reason
    landed, = landing.requests
    assert landed.headers["x-api-key"] == "key-123"
    assert landed.headers["cookie"] == "session=abc"
    assert landed.headers["authorization"] == "Bearer token-456"


async def test_a_redirect_within_the_origin_keeps_the_headers(client) -> None:
    def answer(path: str) -> bytes:
        return _redirect("/landing") if path == "/" else _ok(path)

    async with RecordingServer(answer) as server:
        options = HttpOptions(headers=SECRETS, bearer_token=SecretStr("token-456"))
        result = await probe_http(f"{server.origin}/", TIMEOUT, client, options)

    assert result.outcome == "up", result.reason
    assert [seen.path for seen in server.requests] == ["/", "/landing"]
    landed = server.requests[1]
    assert (landed.headers["x-api-key"], landed.headers["authorization"]) == (
        "key-123", "Bearer token-456")


async def test_a_body_resent_to_another_origin_keeps_only_its_type(client) -> None:
    """A 307 sends the POST again: its Content-Type still describes it, the key goes nowhere."""
    async with (
        RecordingServer(_ok) as landing,
        RecordingServer(
            lambda _p: _redirect(f"{landing.origin}/landing", "307 Temporary Redirect")
        ) as start,
    ):
        options = HttpOptions(
            method="POST", body='{"ping": 1}',
            headers={"Content-Type": "application/json", "X-Api-Key": "key-123"},
        )
        result = await probe_http(f"{start.origin}/", TIMEOUT, client, options)

    assert result.outcome == "up", result.reason
    landed, = landing.requests
    assert (landed.body, landed.headers["content-type"]) == (b'{"ping": 1}', "application/json")
    assert "x-api-key" not in landed.headers


# -- 2. a compressed body is inflated within the cap --------------------------------------

BOMB_INFLATED = 64 * 1024 * 1024  # 64 MiB of zeros: about 64 KB once compressed


def _compress(data_chunks: Iterator[bytes], wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join(compressor.compress(chunk) for chunk in data_chunks) + compressor.flush()


@functools.cache
def _bomb(encoding: str) -> bytes:
    zeros = (bytes(1024 * 1024) for _ in range(BOMB_INFLATED // (1024 * 1024)))
    if encoding == "gzip":
        return _compress(zeros, 31)
    if encoding == "deflate":
        return _compress(zeros, 15)
    if encoding == "raw deflate":
        return _compress(zeros, -15)
    assert encoding == "gzip, gzip"
    return _compress(iter([_bomb("gzip")]), 31)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate", "gzip, gzip"])
async def test_a_compression_bomb_costs_no_more_than_the_cap(client, encoding: str) -> None:
    payload = _bomb(encoding)  # built before measuring: only the probe's memory counts
    header = "deflate" if encoding == "raw deflate" else encoding
    answer = _response("200 OK", payload, {"Content-Encoding": header})
    async with RecordingServer(lambda _p: answer) as server:
        tracemalloc.start()
        try:
            result = await probe_http(
                f"{server.origin}/", 10.0, client, HttpOptions(keyword="All systems go"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert (result.outcome, result.reason) == (
        "down", "keyword 'All systems go' not found in the first 1 MiB")
    # The 1 MiB kept, a copy of it and a chunk in flight; inflating whole chunks took 64 MiB+.
    assert peak < 6 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


async def test_what_follows_the_end_of_a_compressed_body_is_not_inflated(client) -> None:
    """Stacked gzip whose inner stream ends early, then inflates to 64 MiB of what is no body."""
    payload = _compress(iter([_compress(iter([b"All systems go"]), 31), *(
        bytes(1024 * 1024) for _ in range(BOMB_INFLATED // (1024 * 1024)))]), 31)
    answer = _response("200 OK", payload, {"Content-Encoding": "gzip, gzip"})
    async with RecordingServer(lambda _p: answer) as server:
        tracemalloc.start()
        try:
            result = await probe_http(
                f"{server.origin}/", 10.0, client, HttpOptions(keyword="All systems go"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert (result.outcome, result.reason) == ("up", None)
    assert peak < 6 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate", "gzip, deflate"])
async def test_compressed_bodies_are_still_read_whole(client, encoding: str) -> None:
    """Past what one step inflates: the keyword is at the end of 300 KB of text."""
    text = b"".join(b"line %d of a status page\n" % n for n in range(12_000)) + b"All systems go"
    if encoding == "gzip, deflate":  # applied in that order: deflate is undone first
        payload, header = _compress(iter([_compress(iter([text]), 31)]), 15), encoding
    else:
        wbits = {"gzip": 31, "deflate": 15, "raw deflate": -15}[encoding]
        payload, header = _compress(iter([text]), wbits), encoding.replace("raw ", "")
    answer = _response("200 OK", payload, {"Content-Encoding": header})
    async with RecordingServer(lambda _p: answer) as server:
        result = await probe_http(
            f"{server.origin}/", TIMEOUT, client, HttpOptions(keyword="All systems go"))

    assert (result.outcome, result.reason) == ("up", None)


async def test_a_body_that_is_not_what_its_encoding_says_is_down(client) -> None:
    answer = _response("200 OK", b"not gzip at all", {"Content-Encoding": "gzip"})
    async with RecordingServer(lambda _p: answer) as server:
        result = await probe_http(f"{server.origin}/", TIMEOUT, client)

    assert result.outcome == "down"
    assert result.reason is not None and "incorrect header check" in result.reason


async def test_a_pile_of_stacked_encodings_is_refused(client) -> None:
    """Each would keep a window of its own: thousands listed would cost that thousands of times."""
    encodings = ", ".join(["gzip"] * (MAX_ENCODINGS + 1))
    answer = _response("200 OK", b"", {"Content-Encoding": encodings})
    async with RecordingServer(lambda _p: answer) as server:
        result = await probe_http(f"{server.origin}/", TIMEOUT, client)

    assert (result.outcome, result.reason) == (
        "down", f"more than {MAX_ENCODINGS} content encodings")


# -- 3. UPWATCH_PROBE_DENY_NETS -------------------------------------------------------------


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def set_ranges(ranges: str) -> None:
        monkeypatch.setenv("UPWATCH_PROBE_DENY_NETS", ranges)
        get_settings.cache_clear()

    return set_ranges


def _denied(address: str, network: str) -> str:
    return f"address {address} is in a denied range ({network} in UPWATCH_PROBE_DENY_NETS)"


def test_the_setting_reads_comma_separated_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().probe_deny_nets == []  # nothing is denied unless configured
    monkeypatch.setenv("UPWATCH_PROBE_DENY_NETS", f"{METADATA}/32, fd00:ec2::254/128,")
    assert [str(net) for net in Settings().probe_deny_nets] == [
        f"{METADATA}/32", "fd00:ec2::254/128"]
    assert str(parse_network("10.1.2.3/8")) == "10.0.0.0/8"  # the range the writer named
    assert str(parse_network(METADATA)) == f"{METADATA}/32"


@pytest.mark.parametrize("bad", ["169.254.169.254/33", "metadata", "10.0.0.0/8;rm"])
def test_a_bad_range_refuses_to_start_naming_it(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("UPWATCH_PROBE_DENY_NETS", f"10.0.0.0/8,{bad}")
    get_settings.cache_clear()
    with pytest.raises(ValidationError) as caught:
        get_settings()  # what the web process and the worker call first
    assert f"{bad!r} is not an address range" in str(caught.value)


def test_the_rule_covers_mapped_addresses_and_only_the_ranges_given() -> None:
    denied = [parse_network(f"{METADATA}/32"), parse_network("fd00:ec2::254/128")]
    assert denial_reason(f"::ffff:{METADATA}", denied) == _denied(
        f"::ffff:{METADATA}", f"{METADATA}/32")
    assert denial_reason("fd00:ec2::254", denied) == _denied("fd00:ec2::254", "fd00:ec2::254/128")
    assert denial_reason("169.254.169.253", denied) is None
    assert denial_reason("127.0.0.1", []) is None


async def test_a_denied_address_is_never_connected_to(client, deny) -> None:
    deny(f"{OTHER_LOOPBACK}/32")
    async with RecordingServer(_ok, host=OTHER_LOOPBACK) as server:
        url = f"{server.origin}/"
        http = await probe_http(url, TIMEOUT, client)
        tcp = await probe_tcp(OTHER_LOOPBACK, server.port, TIMEOUT, TcpOptions())
        tls = await probe_tls(OTHER_LOOPBACK, server.port, TIMEOUT)

    reason = _denied(OTHER_LOOPBACK, f"{OTHER_LOOPBACK}/32")
    assert [(r.outcome, r.reason) for r in (http, tcp, tls)] == [("down", reason)] * 3
    assert server.connections == 0


async def test_ranges_that_do_not_match_leave_probes_alone(client, deny) -> None:
    deny(f"{METADATA}/32,10.0.0.0/8")
    async with RecordingServer(_ok, host=OTHER_LOOPBACK) as server:
        result = await probe_http(f"{server.origin}/", TIMEOUT, client)

    assert (result.outcome, server.connections) == ("up", 1)


async def test_a_redirect_into_a_denied_range_is_refused(client, deny) -> None:
    deny("127.0.0.2/32")
    async with (
        RecordingServer(_ok, host=OTHER_LOOPBACK) as inside,
        RecordingServer(lambda _p: _redirect(f"{inside.origin}/")) as outside,
    ):
        result = await probe_http(f"{outside.origin}/", TIMEOUT, client)

    assert (result.outcome, result.reason) == ("down", _denied(OTHER_LOOPBACK, "127.0.0.2/32"))
    assert (len(outside.requests), inside.connections) == (1, 0)


class _CountingDatagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1


async def test_a_dns_check_never_asks_a_resolver_in_a_denied_range(deny) -> None:
    deny("127.0.0.0/8")
    transport, counter = await asyncio.get_running_loop().create_datagram_endpoint(
        _CountingDatagrams, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        result = await probe_dns("up.test", TIMEOUT, DnsOptions(resolver=f"127.0.0.1:{port}"))
        await asyncio.sleep(0.05)
    finally:
        transport.close()

    assert (result.outcome, result.reason) == ("down", _denied("127.0.0.1", "127.0.0.0/8"))
    assert counter.received == 0


# -- names that resolve into a denied range: the lookup is answered here, nothing connects --


@dataclass
class FakeNetwork:
    """Stands in for the running loop's name lookup and connect: `answers` name -> addresses;
    every connect is noted and refused, so nothing ever leaves the machine."""

    answers: dict[str, list[str]]
    connects: list[str] = field(default_factory=list)

    async def getaddrinfo(self, host: str, port: int, **_kw: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in self.answers[host]]

    async def create_connection(self, _factory: object, host: str, port: int,
                                **_kw: object) -> tuple:
        self.connects.append(host)
        raise ConnectionRefusedError(111, "refused by the test")


@pytest.fixture
async def fake_network(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeNetwork]:
    network = FakeNetwork({"metadata.test": [METADATA]})
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", network.getaddrinfo)
    monkeypatch.setattr(loop, "create_connection", network.create_connection)
    yield network


async def _probe_every_kind(client: httpx.AsyncClient, host: str) -> list[tuple[str, str | None]]:
    results = [
        await probe_http(f"http://{host}/latest/meta-data/", TIMEOUT, client),
        await probe_tcp(host, 80, TIMEOUT),
        await probe_tls(host, 443, TIMEOUT),
    ]
    return [(result.outcome, result.reason) for result in results]


async def test_the_fake_network_sees_every_connect(client, fake_network: FakeNetwork) -> None:
    """Without a denied range each probe connects once: the counter below can be trusted."""
    outcomes = await _probe_every_kind(client, "metadata.test")

    assert outcomes == [("down", "connection refused")] * 3
    assert fake_network.connects == [METADATA] * 3


async def test_a_name_resolving_into_a_denied_range_is_never_connected_to(
    client, deny, fake_network: FakeNetwork
) -> None:
    deny(f"{METADATA}/32")
    outcomes = await _probe_every_kind(client, "metadata.test")

    assert outcomes == [("down", _denied(METADATA, f"{METADATA}/32"))] * 3
    assert fake_network.connects == []


async def test_of_several_addresses_only_an_allowed_one_is_tried(
    client, deny, fake_network: FakeNetwork
) -> None:
    deny(f"{METADATA}/32")
    fake_network.answers["mixed.test"] = [METADATA, "127.0.0.1"]
    result = await probe_tcp("mixed.test", 80, TIMEOUT)

    assert (result.outcome, result.reason) == ("down", "connection refused")
    assert fake_network.connects == ["127.0.0.1"]


async def test_the_transport_refuses_a_denied_address_handed_to_it(
    deny, fake_network: FakeNetwork
) -> None:
    """Whoever sends through the probes' client, not only probe_http, is held to the rule."""
    deny(f"{METADATA}/32")
    async with make_probe_client() as own_client:
        with pytest.raises(ProbeFailure) as caught:
            await own_client.get(f"http://{METADATA}/latest/meta-data/")
        with pytest.raises(ProbeFailure):
            await own_client.get("http://metadata.test/")

    assert caught.value.reason == _denied(METADATA, f"{METADATA}/32")
    assert fake_network.connects == []
