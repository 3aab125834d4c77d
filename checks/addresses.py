"""The addresses a probe may connect to for a name, in the order RFC 8305 tries them.

A name is looked up through the system's resolver (getaddrinfo), or the DNS server of
UPWATCH_PROBE_RESOLVER. The monitor may pin one IP version. Every address passes the rules of
`checks.address_policy` before anything connects to it: denied ones are dropped, and a name
with only denied addresses is refused. What remains is interleaved IPv6 / IPv4, starting with
the family of the first answer (RFC 8305, section 4), for `checks.happy_eyeballs` to race.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.resolver

from checks.address_policy import denial_reason, denied_networks
from checks.probe_failure import ProbeFailure, elapsed_ms
from config.settings import get_settings
from domain.check_options import IpVersion, split_resolver_address

_FAMILIES = {"any": socket.AF_UNSPEC, "ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
_RECORDS = {"any": ("AAAA", "A"), "ipv4": ("A",), "ipv6": ("AAAA",)}
_VERSION_NAMES = {"ipv4": "IPv4", "ipv6": "IPv6"}


def ip_version_of(address: str) -> int | None:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return None


def interleave(addresses: Sequence[str]) -> list[str]:
    """IPv6 and IPv4 in turn, from the family of the first address; repeats dropped."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return []
    first = ip_version_of(unique[0])
    same = [a for a in unique if ip_version_of(a) == first]
    other = [a for a in unique if ip_version_of(a) != first]
    ordered: list[str] = []
    for index in range(max(len(same), len(other))):
        ordered += same[index:index + 1] + other[index:index + 1]
    return ordered


@functools.lru_cache(maxsize=4)
def _resolver_at(address: str) -> dns.asyncresolver.Resolver:
    host, port = split_resolver_address(address)
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    return resolver


async def _ask_resolver(resolver_address: str, host: str, ip_version: IpVersion) -> list[str]:
    resolver = _resolver_at(resolver_address)

    async def ask(record_type: str) -> list[str]:
        try:
            answer = await resolver.resolve(host, record_type, search=False)
        except dns.exception.DNSException:  # no such record, or this lookup failed: the
            return []                       # other record type's answer still counts
        return [str(rdata.address) for rdata in answer]

    answers = await asyncio.gather(*(ask(kind) for kind in _RECORDS[ip_version]))
    return [address for found in answers for address in found]


async def _ask_system(host: str, port: int, ip_version: IpVersion) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, family=_FAMILIES[ip_version], type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return [str(info[4][0]) for info in infos]


def _pinned_refusal(address: str, ip_version: IpVersion) -> str | None:
    wanted = {"ipv4": 4, "ipv6": 6}.get(ip_version)
    if wanted is None or ip_version_of(address) == wanted:
        return None
    return f"address {address} is not {_VERSION_NAMES[ip_version]} (the monitor uses " \
        f"{_VERSION_NAMES[ip_version]} only)"


async def resolve_addresses(
    host: str, port: int, ip_version: IpVersion = "any"
) -> tuple[list[str], float]:
    """The addresses of `host` probes may connect to, in the order to try them, and how long
    the lookup took in ms (0 for IP literals). Raises ProbeFailure when there is none."""
    denied = denied_networks()
    if ip_version_of(host) is not None:
        refusal = _pinned_refusal(host, ip_version) or denial_reason(host, denied)
        if refusal is not None:
            raise ProbeFailure(refusal)
        return [host], 0.0
    started = time.perf_counter()
    resolver = get_settings().probe_resolver
    if resolver is not None:
        found = await _ask_resolver(resolver, host, ip_version)
    else:
        found = await _ask_system(host, port, ip_version)
    if not found:
        pinned = f" ({_VERSION_NAMES[ip_version]})" if ip_version in _VERSION_NAMES else ""
        raise ProbeFailure(f"cannot resolve host {host}{pinned}")
    allowed = [address for address in found if denial_reason(address, denied) is None]
    if not allowed:  # an allowed one of several is used; none allowed is refused
        raise ProbeFailure(str(denial_reason(found[0], denied)))
    return interleave(allowed), elapsed_ms(started)


__all__ = ["interleave", "ip_version_of", "resolve_addresses"]
