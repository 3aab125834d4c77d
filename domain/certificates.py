"""How close to expiry a TLS certificate is, and what that means for the check, the notices
and the badge.

Three thresholds of days left, one rule each:
- a monitor's check turns degraded under its warning threshold and down under its critical one
  (per monitor; CERT_WARNING_DAYS and CERT_CRITICAL_DAYS are the defaults);
- a notice is sent once at each of NOTICE_DAYS, the same for every monitor;
- the certificate badge changes colour at the same NOTICE_DAYS, so its colour says how many
  notices have gone out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, TypeVar, get_args

from domain.tables import one_per

CERT_WARNING_DAYS = 30
CERT_CRITICAL_DAYS = 7
NOTICE_DAYS: tuple[int, ...] = (CERT_WARNING_DAYS, 14, CERT_CRITICAL_DAYS)  # furthest first

CertVerdict = Literal["up", "degraded", "down"]
# How urgent a certificate is: before any notice, after each of NOTICE_DAYS, and expired.
CertBand = Literal["valid", "expiring", "expiring_soon", "critical", "expired"]
CERT_BANDS: tuple[CertBand, ...] = get_args(CertBand)

Value = TypeVar("Value")


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days until `not_after`, rounded down; negative once it has passed."""
    return (not_after - now).days


def days_left_if_known(not_after: datetime | None, now: datetime) -> int | None:
    """`days_left`, or None when no certificate (or no expiry) is known."""
    return None if not_after is None else days_left(not_after, now)


def certificate_verdict(
    days: int, warning_days: int = CERT_WARNING_DAYS, critical_days: int = CERT_CRITICAL_DAYS
) -> CertVerdict:
    """Down when expired or under the critical threshold, degraded under the warning one."""
    if days < 0 or days < critical_days:
        return "down"
    if days < warning_days:
        return "degraded"
    return "up"


def notices_due(days: int) -> tuple[int, ...]:
    """The NOTICE_DAYS a certificate with `days` left has reached (all of them once expired)."""
    return tuple(threshold for threshold in NOTICE_DAYS if days <= threshold)


def certificate_band(days: int) -> CertBand:
    """How urgent a certificate with `days` left is: one band per notice reached."""
    if days < 0:
        return "expired"
    return CERT_BANDS[len(notices_due(days))]


def for_every_cert_band(values: Mapping[CertBand, Value]) -> dict[str, Value]:
    """`values` (colours) checked to hold one entry per band: fails on import when a band is
    added without one."""
    return one_per(CERT_BANDS, values, "certificate band")
