"""Uptime bands: where each begins, and that the badge and the status board colour by them."""

from __future__ import annotations

from datetime import date

import pytest

from domain.bands import UPTIME_BANDS, for_every_band, uptime_band
from readmodel.board_payload import BAR_COLORS, day_category
from storage.daily_bars import DayBar
from web.badge_values import uptime_badge


@pytest.mark.parametrize(("percent", "band"), [
    (100.0, "≥ 99.9%"),
    (99.9, "≥ 99.9%"),
    (0.999 * 100, "≥ 99.9%"),  # a fraction of 1 times 100, as the board computes it
    (99.89, "≥ 99%"),
    (99.0, "≥ 99%"),
    (98.99, "≥ 95%"),
    (95.0, "≥ 95%"),
    (94.99, "≥ 90%"),
    (90.0, "≥ 90%"),
    (89.99, "< 90%"),
    (0.0, "< 90%"),
])
def test_uptime_band(percent: float, band: str) -> None:
    assert uptime_band(percent) == band


def test_the_bands_run_best_first() -> None:
    assert UPTIME_BANDS == ("≥ 99.9%", "≥ 99%", "≥ 95%", "≥ 90%", "< 90%")


def _day(uptime: float) -> DayBar:
    return DayBar(date(2026, 8, 1), uptime, up_s=0, degraded_s=0, down_s=0, maintenance_s=0,
                  observed_s=86_400, checks=1)


# (uptime as a fraction, the badge's colour): one row per band and on each band's edge.
@pytest.mark.parametrize(("fraction", "badge_color"), [
    (1.0, "brightgreen"),
    (0.999, "brightgreen"),
    (0.99899, "green"),
    (0.99, "green"),
    (0.9899, "yellow"),
    (0.95, "yellow"),
    (0.9499, "orange"),
    (0.90, "orange"),
    (0.8999, "red"),
])
def test_the_badge_and_the_board_put_an_uptime_in_the_same_band(
    fraction: float, badge_color: str
) -> None:
    band = uptime_band(fraction * 100)
    assert day_category(_day(fraction)) == band
    assert uptime_badge(fraction)[1] == badge_color


def test_the_board_has_a_colour_for_every_band() -> None:
    assert set(UPTIME_BANDS) <= set(BAR_COLORS)


def test_a_table_per_band_must_name_every_band() -> None:
    with pytest.raises(ValueError, match="< 90%"):
        for_every_band({band: "red" for band in UPTIME_BANDS if band != "< 90%"})
