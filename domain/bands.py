"""Uptime bands: how good an uptime percentage is, the same on badges and the status board.

Each place that colours an uptime picks its own colours (shields.io names on a badge, mid tones
that read on a light and a dark page on the board) but keys them by these bands, so both always
agree on where good ends and bad begins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar, get_args

from domain.tables import one_per

UptimeBand = Literal["≥ 99.9%", "≥ 99%", "≥ 95%", "≥ 90%", "< 90%"]
UPTIME_BANDS: tuple[UptimeBand, ...] = get_args(UptimeBand)  # best first

# (lowest percentage, band), best first; below the last one is the lowest band.
_LOWEST_PERCENT: tuple[tuple[float, UptimeBand], ...] = (
    (99.9, "≥ 99.9%"),
    (99.0, "≥ 99%"),
    (95.0, "≥ 95%"),
    (90.0, "≥ 90%"),
)
_BELOW_ALL: UptimeBand = "< 90%"

Value = TypeVar("Value")


def uptime_band(percent: float) -> UptimeBand:
    """The band of an uptime given in percent (99.95, not 0.9995)."""
    for lowest, band in _LOWEST_PERCENT:
        if percent >= lowest:
            return band
    return _BELOW_ALL


def for_every_band(values: Mapping[UptimeBand, Value]) -> dict[str, Value]:
    """`values` (colours) checked to hold one entry per band, best first: a colour table that
    forgets a new band fails on import."""
    return one_per(UPTIME_BANDS, values, "uptime band")
