"""DNS check: a record of a name, through the system's resolver or a given one.

Up when the record exists (and, if an expected value is given, one of the answers is it).
A given resolver in a range of UPWATCH_PROBE_DENY_NETS is never asked.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import time

import dns.asyncresolver
import dns.exception
import dns.rdata
import dns.resolver

from checks.address_policy import denial_reason
from checks.tcp_probe import elapsed_ms, timed_out_reason
from domain.check_options import DnsOptions, split_resolver_address
from domain.result import ProbeResult


@functools.cache
def _system_resolver() -> dns.asyncresolver.Resolver:
    return dns.asyncresolver.Resolver()  # reads /etc/resolv.conf once


def _resolver_for(address: str | None) -> dns.asyncresolver.Resolver:
    if address is None:
        return _system_resolver()
    host, port = split_resolver_address(address)
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    return resolver


def record_values(rdata: dns.rdata.Rdata) -> list[str]:
    """How a person would write this record, plus shorter forms they may expect to match."""
    kind = type(rdata).__name__
    if kind in ("A", "AAAA"):
        return [str(rdata.address)]  # type: ignore[attr-defined]
    if kind in ("CNAME", "NS"):
        return [rdata.target.to_text().rstrip(".")]  # type: ignore[attr-defined]
    if kind == "MX":
        exchange = rdata.exchange.to_text().rstrip(".")  # type: ignore[attr-defined]
        return [f"{rdata.preference} {exchange}", exchange]  # type: ignore[attr-defined]
    if kind == "TXT":
        return [b"".join(rdata.strings).decode(errors="replace")]  # type: ignore[attr-defined]
    return [rdata.to_text()]


def _matches(expected: str, value: str, record_type: str) -> bool:
    if record_type in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(expected) == ipaddress.ip_address(value)
        except ValueError:
            return False
    if record_type == "TXT":
        return expected in value  # "v=spf1" should find the SPF record
    return expected.lower().rstrip(".") == value.lower()


async def probe_dns(name: str, timeout: float, options: DnsOptions | None = None) -> ProbeResult:
    """Look up `options.record_type` for `name`; never raises."""
    options = options or DnsOptions()
    record_type = options.record_type
    started = time.perf_counter()
    try:
        if options.resolver is not None:  # the system's resolver is the operator's own choice
            refusal = denial_reason(split_resolver_address(options.resolver)[0])
            if refusal is not None:
                return _down(refusal, started)
        resolver = _resolver_for(options.resolver)
        async with asyncio.timeout(timeout):
            answer = await resolver.resolve(name, record_type, lifetime=timeout, search=False)
    except (TimeoutError, dns.exception.Timeout):
        return _down(timed_out_reason(timeout), started)
    except dns.resolver.NXDOMAIN:
        return _down(f"{name} does not exist (NXDOMAIN)", started)
    except dns.resolver.NoAnswer:
        return _down(f"no {record_type} record for {name}", started)
    except dns.resolver.NoNameservers:
        return _down(f"no DNS server could answer for {name}", started)
    except Exception as exc:  # a probe reports, it never raises
        return _down(f"DNS lookup failed: {exc}", started)
    lookup_ms = elapsed_ms(started)
    phases = {"dns": lookup_ms, "total": lookup_ms}
    answers = [value for rdata in answer for value in record_values(rdata)]
    expected = options.expected
    if expected is not None and not any(_matches(expected, v, record_type) for v in answers):
        shown = ", ".join(sorted(answers))  # an RRset has no order; keep reasons stable
        return ProbeResult(
            "down",
            latency_ms=lookup_ms,
            reason=f"expected {expected!r} not in {record_type} records (got {shown})",
            phases=phases,
        )
    return ProbeResult("up", latency_ms=lookup_ms, phases=phases)


def _down(reason: str, started: float) -> ProbeResult:
    return ProbeResult("down", reason=reason, phases={"total": elapsed_ms(started)})
