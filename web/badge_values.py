"""What a badge says and in which colour, for each kind of badge.

Pure functions from a value to `(message, colour)`; colours are shields.io colour names, valid
both in our SVGs and in shields.io endpoint JSON.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal
from typing import Any

from domain.bands import for_every_band, uptime_band
from domain.certificates import certificate_band, for_every_cert_band
from domain.states import for_every_overall_state, for_every_state
from web.badge_svg import shields_color

BadgeText = tuple[str, str]

NO_DATA: BadgeText = ("no data", "lightgrey")

_STATUS = for_every_state({
    "up": ("up", "brightgreen"),
    "degraded": ("degraded", "yellow"),
    "down": ("down", "red"),
    "pending": ("pending", "lightgrey"),
    "maintenance": ("maintenance", "blue"),
    "paused": ("paused", "lightgrey"),
})

_OVERALL = for_every_overall_state({
    "operational": ("operational", "brightgreen"),
    "degraded": ("degraded", "yellow"),
    "partial_outage": ("partial outage", "orange"),
    "major_outage": ("major outage", "red"),
    "maintenance": ("maintenance", "blue"),
})

_UPTIME_COLORS = for_every_band({
    "≥ 99.9%": "brightgreen",
    "≥ 99%": "green",
    "≥ 95%": "yellow",
    "≥ 90%": "orange",
    "< 90%": "red",
})

_CERT_COLORS = for_every_cert_band({
    "valid": "brightgreen",
    "expiring": "yellow",
    "expiring_soon": "orange",
    "critical": "red",
    "expired": "red",
})

# (latency below this many ms, colour), fastest first.
_LATENCY_COLORS: tuple[tuple[float, str], ...] = (
    (200, "brightgreen"),
    (500, "green"),
    (1000, "yellow"),
    (2000, "orange"),
)


def status_badge(state: str) -> BadgeText:
    """A monitor's current state: up, degraded, down, pending, maintenance or paused."""
    return _STATUS.get(state, ("unknown", "lightgrey"))


def overall_badge(state: str) -> BadgeText:
    """The whole status page: operational, degraded, partial_outage, major_outage or
    maintenance (spaces or hyphens instead of underscores are accepted too)."""
    key = state.strip().lower().replace(" ", "_").replace("-", "_")
    return _OVERALL.get(key, ("unknown", "lightgrey"))


def uptime_badge(fraction: float | None) -> BadgeText:
    """Uptime as a fraction of 1, shown as a percentage with two decimals."""
    if fraction is None or math.isnan(fraction):
        return NO_DATA
    percent = Decimal(repr(min(max(fraction, 0.0), 1.0))) * 100
    # Cut, never round up: 99.999% must not read "100%", which promises no downtime at all.
    shown = percent.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    message = "100%" if shown == 100 else f"{shown}%"
    # Coloured by the figure shown, so that the number and its colour always agree.
    return message, _UPTIME_COLORS[uptime_band(float(shown))]


def latency_badge(ms: float | None) -> BadgeText:
    """A response time in milliseconds; whole milliseconds, one decimal below 10 ms."""
    if ms is None or math.isnan(ms) or ms < 0 or math.isinf(ms):
        return NO_DATA
    message = f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
    for below, color in _LATENCY_COLORS:
        if ms < below:
            return message, color
    return message, "red"


def cert_badge(days_left: int | None) -> BadgeText:
    """Whole days until the TLS certificate expires; negative means it already has. The colour
    changes where a notice is sent (domain.certificates.NOTICE_DAYS)."""
    if days_left is None:
        return NO_DATA
    color = _CERT_COLORS[certificate_band(days_left)]
    if days_left < 0:
        return "expired", color
    if days_left == 0:
        return "expires today", color
    return (f"{days_left} day" if days_left == 1 else f"{days_left} days"), color


def shields_endpoint_json(label: str, message: str, color: str) -> dict[str, Any]:
    """The body shields.io's endpoint badge reads (https://shields.io/badges/endpoint-badge).
    An unknown colour becomes light grey, as in the SVG."""
    return {
        "schemaVersion": 1,
        "label": label,
        "message": message,
        "color": shields_color(color),
    }
