"""Routing rules, one table row per case: which notice a state change becomes, and when a
channel's quiet hours keep a monitor of some severity off it (every severity, inside and
outside the hours, windows that span midnight, time zones other than UTC)."""

from __future__ import annotations

import time as time_module
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.routing import QuietHours, Routed, parse_clock, route_event

STATES = ("pending", "up", "degraded", "down", "maintenance", "paused")


@pytest.mark.parametrize(
    ("kind", "from_state", "to_state", "expected"),
    [
        ("certificate", "up", "up", Routed("certificate", "certificate")),
        ("certificate", "down", "down", Routed("certificate", "certificate")),
        ("state", "up", "down", Routed("down", "down")),
        ("state", "pending", "down", Routed("down", "down")),
        ("state", "maintenance", "down", Routed("down", "down")),
        ("state", "up", "degraded", Routed("degraded", "degraded")),
        ("state", "down", "degraded", Routed("degraded", "degraded")),
        ("state", "up", "maintenance", Routed("maintenance_start", "maintenance")),
        ("state", "down", "maintenance", Routed("maintenance_start", "maintenance")),
        ("state", "maintenance", "up", Routed("maintenance_end", "maintenance")),
        ("state", "maintenance", "pending", Routed("maintenance_end", "maintenance")),
        ("state", "down", "up", Routed("up", "up")),
        ("state", "degraded", "up", Routed("up", "up")),
        # a flapping monitor that settled up: its recovery notice is owed
        ("settled", "up", "up", Routed("up", "up")),
        ("settled", "pending", "up", Routed("up", "up")),
        ("state", "pending", "up", None),  # a new monitor's first verdict is not news
        ("state", "up", "up", None),
        ("state", "up", "pending", None),
        ("state", "up", "paused", None),
        ("state", "maintenance", "paused", None),
        ("settled", "up", "pending", None),
    ],
)
def test_route_event(kind: str, from_state: str, to_state: str, expected: Routed | None) -> None:
    assert route_event(kind, from_state, to_state) == expected


@given(st.sampled_from(STATES), st.sampled_from(STATES))
def test_a_certificate_event_is_a_certificate_notice_whatever_the_states(
    from_state: str, to_state: str
) -> None:
    assert route_event("certificate", from_state, to_state) == Routed("certificate", "certificate")


def utc(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


DAYTIME = QuietHours("09:00", "17:00", "UTC", "critical")
OVERNIGHT = QuietHours("22:00", "07:00", "UTC", "critical")
# Berlin is UTC+1 in January: 22:00-07:00 there is 21:00-06:00 UTC.
BERLIN = QuietHours("22:00", "07:00", "Europe/Berlin", "critical")
# New York is UTC-5 in January: 09:00-17:00 there is 14:00-22:00 UTC.
NEW_YORK = QuietHours("09:00", "17:00", "America/New_York", "high")


@pytest.mark.parametrize(
    ("quiet", "at", "silenced"),
    [
        (DAYTIME, utc(8, 59), False),
        (DAYTIME, utc(9, 0), True),  # the start is inside
        (DAYTIME, utc(12), True),
        (DAYTIME, utc(16, 59), True),
        (DAYTIME, utc(17, 0), False),  # the end is outside
        (DAYTIME, utc(23), False),
        (OVERNIGHT, utc(21, 59), False),
        (OVERNIGHT, utc(22, 0), True),
        (OVERNIGHT, utc(23, 30), True),
        (OVERNIGHT, utc(0, 0), True),
        (OVERNIGHT, utc(3), True),
        (OVERNIGHT, utc(6, 59), True),
        (OVERNIGHT, utc(7, 0), False),
        (OVERNIGHT, utc(12), False),
        (BERLIN, utc(20, 59), False),
        (BERLIN, utc(21, 0), True),
        (BERLIN, utc(5, 59), True),
        (BERLIN, utc(6, 0), False),
        (BERLIN, utc(6, 30), False),  # 07:30 in Berlin, though inside 22-07 in UTC terms
        (NEW_YORK, utc(13, 59), False),
        (NEW_YORK, utc(14, 0), True),
        (NEW_YORK, utc(21, 59), True),
        (NEW_YORK, utc(22, 0), False),
        (NEW_YORK, utc(10), False),  # 05:00 in New York
    ],
)
def test_quiet_hours_silence_a_low_severity_monitor_only_inside_the_hours(
    quiet: QuietHours, at: datetime, silenced: bool
) -> None:
    assert quiet.silences("low", at) is silenced
    # the same instant written in another zone is the same instant
    assert quiet.silences("low", at.astimezone(ZoneInfo("Asia/Tokyo"))) is silenced


@pytest.mark.parametrize(
    ("min_severity", "severity", "silenced"),
    [
        ("critical", "low", True),
        ("critical", "high", True),
        ("critical", "critical", False),
        ("high", "low", True),
        ("high", "high", False),
        ("high", "critical", False),
        ("low", "low", False),
        ("low", "high", False),
        ("low", "critical", False),
        ("critical", "unheard-of", True),  # an unknown severity counts as high
        ("high", "unheard-of", False),
        ("unheard-of", "high", True),  # an unknown threshold counts as critical
        ("unheard-of", "critical", False),
    ],
)
@pytest.mark.parametrize("quiet_hours", [DAYTIME, OVERNIGHT])
def test_monitors_of_at_least_the_channels_severity_get_through_quiet_hours(
    quiet_hours: QuietHours, min_severity: str, severity: str, silenced: bool
) -> None:
    quiet = QuietHours(quiet_hours.start, quiet_hours.end, "UTC", min_severity)
    inside = utc(12) if quiet_hours is DAYTIME else utc(23)
    outside = utc(20) if quiet_hours is DAYTIME else utc(12)
    assert quiet.silences(severity, inside) is silenced
    assert quiet.silences(severity, outside) is False


@pytest.mark.parametrize(
    "quiet",
    [
        QuietHours(None, "07:00"),
        QuietHours("22:00", None),
        QuietHours("", ""),
        QuietHours(None, None),
    ],
)
def test_quiet_hours_without_both_ends_silence_nothing(quiet: QuietHours) -> None:
    assert not any(quiet.silences("low", utc(0) + timedelta(minutes=m)) for m in range(0, 1440, 30))


def test_an_unknown_time_zone_is_read_as_utc_not_as_the_servers_zone(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # a server far from UTC
    time_module.tzset()
    try:
        quiet = QuietHours("09:00", "17:00", "Mars/Olympus_Mons", "critical")
        assert quiet.silences("low", utc(9)) is True
        assert quiet.silences("low", utc(8, 59)) is False
        assert quiet.silences("low", utc(1)) is False  # 10:00 in Tokyo
    finally:
        monkeypatch.undo()
        time_module.tzset()


def test_the_default_is_utc_and_critical_only() -> None:
    quiet = QuietHours("09:00", "17:00")
    assert quiet.silences("high", utc(9)) is True
    assert quiet.silences("critical", utc(9)) is False
    assert quiet.silences("high", utc(17)) is False


def in_span(start: time, end: time, local: time) -> bool:
    """The oracle: quiet from `start` up to `end`, wrapping past midnight when end < start."""
    minutes = [(t.hour * 60 + t.minute) for t in (start, end, local)]
    length = (minutes[1] - minutes[0]) % 1440
    return (minutes[2] - minutes[0]) % 1440 < length


CLOCKS = st.builds(time, st.integers(0, 23), st.integers(0, 59))
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                         "Australia/Adelaide", "Pacific/Chatham"])


@given(CLOCKS, CLOCKS, st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                                    timezones=st.just(UTC)), ZONES)
def test_quiet_hours_agree_with_the_local_clock(
    start: time, end: time, at: datetime, zone: str
) -> None:
    quiet = QuietHours(start.strftime("%H:%M"), end.strftime("%H:%M"), zone, "critical")
    local = at.astimezone(ZoneInfo(zone)).time().replace(second=0, microsecond=0)
    expected = in_span(start, end, local) if start != end else False
    assert quiet.silences("low", at.replace(second=0, microsecond=0)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7:05", None), ("07:05", "07:05"), (" 22:00 ", "22:00"), ("23:59:59", "23:59"),
     ("24:00", None), ("noon", None), ("", None)],
)
def test_parse_clock(text: str, expected: str | None) -> None:
    assert parse_clock(text) == expected
