"""Certificate expiry: days left, the check's verdict, the notices due and the badge's band."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.certificates import (
    CERT_BANDS,
    CERT_CRITICAL_DAYS,
    CERT_WARNING_DAYS,
    NOTICE_DAYS,
    certificate_band,
    certificate_verdict,
    days_left,
    notices_due,
)
from domain.check_options import CertThresholds
from web.badge_values import cert_badge

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def test_the_thresholds() -> None:
    assert (CERT_WARNING_DAYS, CERT_CRITICAL_DAYS, NOTICE_DAYS) == (30, 7, (30, 14, 7))


def test_a_monitor_without_thresholds_of_its_own_gets_the_defaults() -> None:
    options = CertThresholds()
    assert (options.cert_warning_days, options.cert_critical_days) == (30, 7)


@pytest.mark.parametrize(("until", "days"), [
    (timedelta(days=12, hours=23), 12),  # whole days, rounded down
    (timedelta(days=1), 1),
    (timedelta(hours=23, minutes=59), 0),
    (timedelta(0), 0),
    (timedelta(seconds=-1), -1),  # passed a moment ago: already negative
    (timedelta(days=-1), -1),
    (timedelta(days=-1, seconds=-1), -2),
])
def test_days_left(until: timedelta, days: int) -> None:
    assert days_left(NOW + until, NOW) == days


@pytest.mark.parametrize(("days", "warning", "critical", "verdict"), [
    (365, 30, 7, "up"),
    (30, 30, 7, "up"),  # at the warning threshold: not yet under it
    (29, 30, 7, "degraded"),
    (7, 30, 7, "degraded"),
    (6, 30, 7, "down"),
    (0, 30, 7, "down"),
    (-1, 30, 7, "down"),
    (10, 10, 5, "up"),
    (9, 10, 5, "degraded"),
    (4, 10, 5, "down"),
    (0, 0, 0, "up"),  # thresholds of 0: only an expired certificate counts
    (-1, 0, 0, "down"),
])
def test_certificate_verdict(days: int, warning: int, critical: int, verdict: str) -> None:
    assert certificate_verdict(days, warning, critical) == verdict


def test_the_verdict_uses_the_default_thresholds_when_given_none() -> None:
    verdicts = [certificate_verdict(days) for days in (30, 29, 7, 6)]
    assert verdicts == ["up", "degraded", "degraded", "down"]


@pytest.mark.parametrize(("days", "due"), [
    (31, ()),
    (30, (30,)),
    (15, (30,)),
    (14, (30, 14)),
    (8, (30, 14)),
    (7, (30, 14, 7)),
    (0, (30, 14, 7)),
    (-5, (30, 14, 7)),
])
def test_notices_due(days: int, due: tuple[int, ...]) -> None:
    assert notices_due(days) == due


@pytest.mark.parametrize(("days", "band", "badge_color"), [
    (365, "valid", "brightgreen"),
    (31, "valid", "brightgreen"),
    (30, "expiring", "yellow"),
    (15, "expiring", "yellow"),
    (14, "expiring_soon", "orange"),
    (8, "expiring_soon", "orange"),
    (7, "critical", "red"),
    (0, "critical", "red"),
    (-1, "expired", "red"),
])
def test_certificate_band_and_the_badge_colour(days: int, band: str, badge_color: str) -> None:
    assert certificate_band(days) == band
    assert cert_badge(days)[1] == badge_color


def test_one_band_before_any_notice_one_after_each_and_one_when_expired() -> None:
    assert len(CERT_BANDS) == len(NOTICE_DAYS) + 2
