"""Addresses probes may not connect to: the ranges of UPWATCH_PROBE_DENY_NETS.

Anyone who can add a monitor chooses where the probes connect, so a deployment can fence off
what its probes must never reach (a cloud's metadata address, an internal network). The rule
is applied to the address about to be connected to, after DNS and on every redirect hop, so a
name or a redirect pointing into a denied range is refused as surely as the address itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from config.network_ranges import Network
from config.settings import get_settings

SETTING = "UPWATCH_PROBE_DENY_NETS"


def denied_networks() -> Sequence[Network]:
    return get_settings().probe_deny_nets


def denial_reason(address: str, denied: Sequence[Network] | None = None) -> str | None:
    """Why probes may not connect to the IP `address`, or None when they may."""
    networks = denied_networks() if denied is None else denied
    if not networks:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None  # not an address: nothing is connected to before it is resolved
    # ::ffff:169.254.169.254 reaches 169.254.169.254: an IPv4 range covers its mapped form too.
    candidates = [ip] if ip.version == 4 or ip.ipv4_mapped is None else [ip, ip.ipv4_mapped]
    for network in networks:
        if any(candidate in network for candidate in candidates):
            return f"address {address} is in a denied range ({network} in {SETTING})"
    return None


__all__ = ["SETTING", "denial_reason", "denied_networks"]
