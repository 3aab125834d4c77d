"""Every address of a name: a local DNS server (tests.targets.serve_dns, on 127.0.0.1) answers
with dead and live loopback addresses; probes race them (RFC 8305) and record which answered."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
import trustme

from checks.addresses import interleave
from checks.happy_eyeballs import STAGGER_S
from checks.run_check import run_check_once
from config.settings import get_settings
from tests.targets import serve_dns

pytestmark = pytest.mark.anyio

NAME = "dual.test"
TIMEOUT = 3.0


@pytest.mark.parametrize(
    ("answers", "order"),
    [
        (["::1", "::2", "127.0.0.1", "127.0.0.2"], ["::1", "127.0.0.1", "::2", "127.0.0.2"]),
        (["127.0.0.1", "127.0.0.2", "::1"], ["127.0.0.1", "::1", "127.0.0.2"]),
        (["127.0.0.1", "127.0.0.1", "127.0.0.2"], ["127.0.0.1", "127.0.0.2"]),
        (["::1"], ["::1"]),
        ([], []),
    ],
)
def test_addresses_are_tried_ipv6_and_ipv4_in_turn_from_the_first_answers_family(
    answers: list[str], order: list[str]
) -> None:
    assert interleave(answers) == order


@contextlib.contextmanager
def resolving(records: dict[tuple[str, str], list[str]],
              monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Probes look names up at a DNS server on 127.0.0.1 answering `records`."""
    with serve_dns(records) as (host, port):
        monkeypatch.setenv("UPWATCH_PROBE_RESOLVER", f"{host}:{port}")
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()


@contextlib.contextmanager
def tls_listener(address: str, certificate: trustme.LeafCert, port: int = 0) -> Iterator[int]:
    """A TLS server on `address` (and `port`, default any free one) answering any request with
    200; yields its port."""
    import ssl
    import threading

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((address, port))
    listener.listen(16)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError), conn:
                conn.settimeout(2)
                with context.wrap_socket(conn, server_side=True) as tls:
                    if tls.recv(4096):  # a TLS check only shakes hands and leaves
                        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def bundle(ca: trustme.CA) -> dict[str, str]:
    return {"ca_bundle": ca.cert_pem.bytes().decode()}


async def test_a_dead_address_beside_a_live_one_is_up_and_the_answer_is_recorded(
    ca: trustme.CA, bundle: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # IPv6 is tried first: ::1 refuses (nothing listens there), then 127.0.0.1 answers.
    records = {(f"{NAME}.", "AAAA"): ["::1"], (f"{NAME}.", "A"): ["127.0.0.1"]}
    with tls_listener("127.0.0.1", ca.issue_cert(NAME)) as port, \
            resolving(records, monkeypatch):
        tls = await run_check_once("tls", f"{NAME}:{port}", TIMEOUT, bundle)
        https = await run_check_once("http", f"https://{NAME}:{port}/", TIMEOUT, bundle)
        tcp = await run_check_once("tcp", f"{NAME}:{port}", TIMEOUT, {})

    assert tls.outcome == "up", tls.reason
    assert tls.tls is not None and tls.tls["address"] == "127.0.0.1"
    assert https.outcome == "up", https.reason
    assert https.tls is not None and https.tls["address"] == "127.0.0.1"
    assert tcp.outcome == "up", tcp.reason


async def test_of_two_ipv4_addresses_the_live_one_answers_in_any_order(
    ca: trustme.CA, bundle: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_listener("127.0.0.1", ca.issue_cert(NAME)) as port, \
            resolving({(f"{NAME}.", "A"): ["127.0.0.2", "127.0.0.1"]}, monkeypatch):
        result = await run_check_once("tls", f"{NAME}:{port}", TIMEOUT, bundle)

    assert result.outcome == "up", result.reason
    assert result.tls is not None and result.tls["address"] == "127.0.0.1"


async def test_when_no_address_connects_the_reason_names_each_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: refused on every loopback
        records = {(f"{NAME}.", "A"): ["127.0.0.2", "127.0.0.1"], (f"{NAME}.", "AAAA"): ["::1"]}
        with resolving(records, monkeypatch):
            result = await run_check_once("http", f"http://{NAME}:{port}/", TIMEOUT, {})

    assert result.outcome == "down"
    assert result.reason is not None and result.reason.startswith("no address connected (::1")
    for address in ("::1", "127.0.0.1", "127.0.0.2"):
        assert f"{address}: connection refused" in result.reason, result.reason


@contextlib.contextmanager
def silent_ipv6_port() -> Iterator[int]:
    """A port on ::1 that never answers: its listener's accept queue is full, so the kernel
    drops new SYNs and connecting hangs."""
    silent = socket.socket(socket.AF_INET6)
    silent.bind(("::1", 0))
    silent.listen(0)
    port = silent.getsockname()[1]
    fillers = [socket.socket(socket.AF_INET6) for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("::1", port))
    try:
        yield port
    finally:
        for sock in (*fillers, silent):
            sock.close()


async def test_a_timeout_names_each_address_and_what_it_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = {(f"{NAME}.", "AAAA"): ["::1"], (f"{NAME}.", "A"): ["127.0.0.2"]}
    with silent_ipv6_port() as port, resolving(records, monkeypatch):
        result = await run_check_once("tcp", f"{NAME}:{port}", 0.6, {})

    assert (result.outcome, result.reason) == ("down", (
        "timed out after 0.6 s (tried ::1: no answer yet; 127.0.0.2: connection refused)"))


async def test_a_slow_address_gets_a_head_start_then_the_next_one_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(silent_ipv6_port())
        _listen_on_ipv4(port, stack)
        records = {(f"{NAME}.", "AAAA"): ["::1"], (f"{NAME}.", "A"): ["127.0.0.1"]}
        with resolving(records, monkeypatch):
            started = time.perf_counter()
            result = await run_check_once("tcp", f"{NAME}:{port}", TIMEOUT, {})
            elapsed = time.perf_counter() - started

    assert result.outcome == "up", result.reason
    # IPv4 started after IPv6's head start, and won well before the timeout.
    assert STAGGER_S * 0.9 <= elapsed < TIMEOUT / 2, elapsed


def _listen_on_ipv4(port: int, stack: contextlib.ExitStack) -> None:
    live = stack.enter_context(socket.socket())
    live.bind(("127.0.0.1", port))
    live.listen(8)


@pytest.mark.parametrize(
    ("ip_version", "outcome", "address"),
    [("any", "up", "::1"), ("ipv6", "up", "::1"), ("ipv4", "down", None)],
)
async def test_a_monitor_can_pin_one_ip_version(
    ip_version: str, outcome: str, address: str | None, ca: trustme.CA, bundle: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # IPv6 answers on ::1; the IPv4 address, 127.0.0.2, refuses.
    records = {(f"{NAME}.", "AAAA"): ["::1"], (f"{NAME}.", "A"): ["127.0.0.2"]}
    with tls_listener("::1", ca.issue_cert(NAME)) as port, resolving(records, monkeypatch):
        result = await run_check_once("tls", f"{NAME}:{port}", TIMEOUT,
                                      {**bundle, "ip_version": ip_version})

    assert result.outcome == outcome, result.reason
    if address is not None:
        assert result.tls is not None and result.tls["address"] == address
    else:
        assert result.reason == "connection refused"


async def test_the_deny_rules_apply_to_every_address_before_connecting(
    ca: trustme.CA, bundle: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = {(f"{NAME}.", "A"): ["127.0.0.1", "127.0.0.2"]}
    # Both addresses listen: 127.0.0.1, tried first, would answer if the rule let it be tried.
    with tls_listener("127.0.0.2", ca.issue_cert(NAME)) as port, \
            tls_listener("127.0.0.1", ca.issue_cert(NAME), port), \
            resolving(records, monkeypatch):
        monkeypatch.setenv("UPWATCH_PROBE_DENY_NETS", "127.0.0.1/32")
        get_settings.cache_clear()
        skipped = await run_check_once("tls", f"{NAME}:{port}", TIMEOUT, bundle)
        monkeypatch.setenv("UPWATCH_PROBE_DENY_NETS", "127.0.0.0/8")
        get_settings.cache_clear()
        refused = await run_check_once("tls", f"{NAME}:{port}", TIMEOUT, bundle)

    assert skipped.outcome == "up" and skipped.tls is not None
    assert skipped.tls["address"] == "127.0.0.2"  # 127.0.0.1 was never tried
    assert refused.outcome == "down"
    assert refused.reason is not None and "denied range" in refused.reason
