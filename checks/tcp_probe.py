"""TCP port check, and the resolve-then-connect layer the TLS and HTTP probes build on.

Names are resolved here, timed on their own, so that every probe can report DNS time apart
from connect time and say "cannot resolve host" rather than a generic connection error. The
address chosen is one `checks.address_policy` allows: nothing connects to a denied range.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import time

from checks.address_policy import denial_reason, denied_networks
from domain.check_options import TcpOptions
from domain.result import ProbeResult


class ProbeFailure(Exception):
    """A check failed for a reason already phrased for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def timed_out_reason(timeout: float) -> str:
    return f"timed out after {format_seconds(timeout)}"


def elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve_host(host: str, port: int) -> tuple[str, float]:
    """The first address of `host` that probes may connect to (see `checks.address_policy`),
    and how long the lookup took in ms (0 for IP literals)."""
    denied = denied_networks()
    if is_ip_literal(host):
        refusal = denial_reason(host, denied)
        if refusal is not None:
            raise ProbeFailure(refusal)
        return host, 0.0
    started = time.perf_counter()
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ProbeFailure(f"cannot resolve host {host}") from None
    if not infos:
        raise ProbeFailure(f"cannot resolve host {host}")
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:  # an allowed one of several is used; none allowed is refused
        if denial_reason(address, denied) is None:
            return address, elapsed_ms(started)
    raise ProbeFailure(str(denial_reason(addresses[0], denied)))


_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EPIPE: "connection closed by the server",
}


def describe_os_error(exc: OSError) -> str:
    if exc.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__


async def connect_timed(
    host: str, port: int, phases: dict[str, float]
) -> tuple[str, asyncio.StreamWriter]:
    """Resolve `host` and open a TCP connection, noting the dns and connect phases."""
    address, phases["dns"] = await resolve_host(host, port)
    connect_started = time.perf_counter()
    _, writer = await asyncio.open_connection(address, port)
    phases["connect"] = elapsed_ms(connect_started)
    return address, writer


async def probe_tcp(
    host: str, port: int, timeout: float, options: TcpOptions | None = None
) -> ProbeResult:
    """Is `port` open on `host`? Up with connect time, or down with the reason."""
    options = options or TcpOptions()
    started = time.perf_counter()
    phases: dict[str, float] = {}
    try:
        async with asyncio.timeout(timeout):
            _, writer = await connect_timed(host, port, phases)
        writer.close()
        with contextlib.suppress(OSError):
            await asyncio.wait_for(writer.wait_closed(), 0.5)
    except TimeoutError:
        return _down(timed_out_reason(timeout), phases, started)
    except ProbeFailure as failure:
        return _down(failure.reason, phases, started)
    except OSError as exc:
        return _down(describe_os_error(exc), phases, started)
    except Exception as exc:  # a probe reports, it never raises
        return _down(f"check failed: {exc!r}", phases, started)
    phases["total"] = elapsed_ms(started)
    threshold = options.degraded_above_ms
    if threshold is not None and phases["connect"] > threshold:
        return ProbeResult(
            "degraded",
            latency_ms=phases["connect"],
            reason=f"slow connect: {phases['connect']:.0f} ms (over {threshold:g} ms)",
            phases=phases,
        )
    return ProbeResult("up", latency_ms=phases["connect"], phases=phases)


def _down(reason: str, phases: dict[str, float], started: float) -> ProbeResult:
    return ProbeResult("down", reason=reason, phases={**phases, "total": elapsed_ms(started)})
