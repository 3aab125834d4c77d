"""TCP port check, and the resolve-then-connect layer the TLS and HTTP probes build on.

Names are resolved here, timed on their own, so that every probe can report DNS time apart
from connect time and say "cannot resolve host" rather than a generic connection error. Every
address of the name that `checks.address_policy` allows is tried (`checks.addresses`,
`checks.happy_eyeballs`): nothing connects to a denied range.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from checks.addresses import resolve_addresses
from checks.happy_eyeballs import Attempts, connect_first
from checks.probe_failure import ProbeFailure, describe_os_error, elapsed_ms
from domain.check_options import IpVersion, TcpOptions
from domain.result import ProbeResult


def format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def timed_out_reason(timeout: float) -> str:
    return f"timed out after {format_seconds(timeout)}"


async def connect_timed(
    host: str, port: int, phases: dict[str, float], ip_version: IpVersion = "any",
    attempts: Attempts | None = None,
) -> tuple[str, asyncio.StreamWriter]:
    """Resolve `host` and open a TCP connection to the first of its addresses to answer (see
    `checks.happy_eyeballs`), noting the dns and connect phases; returns that address."""
    addresses, phases["dns"] = await resolve_addresses(host, port, ip_version)
    connect_started = time.perf_counter()
    (_, writer), address = await connect_first(
        addresses, port,
        lambda address: asyncio.open_connection(address, port),
        lambda sock: asyncio.open_connection(sock=sock),
        attempts)
    phases["connect"] = elapsed_ms(connect_started)
    return address, writer


async def probe_tcp(
    host: str, port: int, timeout: float, options: TcpOptions | None = None
) -> ProbeResult:
    """Is `port` open on `host`? Up with connect time, or down with the reason."""
    options = options or TcpOptions()
    started = time.perf_counter()
    phases: dict[str, float] = {}
    attempts = Attempts()
    try:
        async with asyncio.timeout(timeout):
            _, writer = await connect_timed(host, port, phases, options.ip_version, attempts)
        writer.close()
        with contextlib.suppress(OSError):
            await asyncio.wait_for(writer.wait_closed(), 0.5)
    except TimeoutError:
        return _down(attempts.reason(timed_out_reason(timeout)), phases, started)
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


__all__ = [
    "ProbeFailure", "connect_timed", "describe_os_error", "elapsed_ms", "format_seconds",
    "probe_tcp", "timed_out_reason",
]
