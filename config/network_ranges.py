"""Address ranges written in a setting as comma-separated CIDRs: `169.254.169.254/32,fd00::/8`."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """One range; a bare address is that address alone, and host bits are dropped
    (`10.1.2.3/8` is 10.0.0.0/8, the range the writer named)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{text.strip()[:60]!r} is not an address range: write it as 169.254.169.254/32 "
            "or fd00:ec2::254/128") from None


def _networks(value: object) -> object:
    # The environment gives one string; Python callers may pass a list of strings or ranges.
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [parse_network(item) if isinstance(item, str) else item for item in value]
    return value


# NoDecode: pydantic-settings would otherwise read a list from the environment as JSON.
NetworkList = Annotated[list[Network], NoDecode, BeforeValidator(_networks)]

__all__ = ["Network", "NetworkList", "parse_network"]
