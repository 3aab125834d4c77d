"""Maintenance windows: one-off and recurring (cron in a zone + duration), per monitor or group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.monitor_input import parse_monitor_input
from storage.db import session_scope
from storage.maintenance import (
    WindowSpec,
    monitors_in_maintenance,
    occurrences,
    scheduled_maintenance,
    validate_cron,
)
from storage.models import MaintenanceWindow, Monitor
from storage.monitors import create_monitor

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def window(**fields: object) -> WindowSpec:
    base: dict = dict(id=1, title="t", description="", monitor_id=None, group_name=None,
                      starts_at=None, ends_at=None, cron=None, timezone="UTC",
                      duration_minutes=None)
    return WindowSpec(**{**base, **fields})


def test_a_one_off_window_overlapping_the_range_is_one_occurrence() -> None:
    spec = window(starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    assert occurrences(spec, NOW, NOW + timedelta(days=1)) == [(spec.starts_at, spec.ends_at)]
    assert occurrences(spec, NOW + timedelta(hours=2), NOW + timedelta(days=1)) == []


def test_a_recurring_window_runs_in_its_own_zone_across_dst() -> None:
    # 02:30 in Berlin every day for 60 minutes; Berlin moves to summer time on 2026-03-29.
    spec = window(cron="30 2 * * *", timezone="Europe/Berlin", duration_minutes=60)
    start = datetime(2026, 3, 27, 12, tzinfo=UTC)
    found = occurrences(spec, start, start + timedelta(days=4))
    local = [begins.astimezone(spec_zone()).strftime("%d %H:%M") for begins, _ in found]
    # 02:30 does not exist on the 29th (clocks jump 02:00 -> 03:00); croniter moves it on.
    assert local[0] == "28 02:30" and local[-1] == "31 02:30"
    assert found[0][0] == datetime(2026, 3, 28, 1, 30, tzinfo=UTC)  # CET, UTC+1
    assert found[-1][0] == datetime(2026, 3, 31, 0, 30, tzinfo=UTC)  # CEST, UTC+2
    assert all(ends - begins == timedelta(hours=1) for begins, ends in found)


def spec_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


def test_an_occurrence_that_began_before_the_range_is_still_found() -> None:
    spec = window(cron="0 11 * * *", duration_minutes=120)
    assert occurrences(spec, NOW, NOW + timedelta(minutes=1)) == [
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    ]


def test_cron_validation_says_what_to_fix() -> None:
    assert validate_cron("0 2 * * 0") is None
    assert "five fields" in (validate_cron("0 2 * *") or "")
    assert "not a valid" in (validate_cron("0 25 * * *") or "")


def test_scheduled_maintenance_and_the_monitors_it_covers() -> None:
    api = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"})).id
    web = create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:1/"})).id
    with session_scope() as session:
        session.get(Monitor, api).group_name = "Backend"
        session.add(MaintenanceWindow(
            title="DB upgrade", group_name="Backend",
            starts_at=NOW - timedelta(minutes=5), ends_at=NOW + timedelta(minutes=55)))
        session.add(MaintenanceWindow(
            title="Weekly reboot", monitor_id=web, cron="0 3 * * 0", timezone="UTC",
            duration_minutes=30))
    views = scheduled_maintenance(NOW, horizon_days=7)
    assert [(v.title, v.active) for v in views] == [("DB upgrade", True), ("Weekly reboot", False)]
    assert views[1].starts_at == datetime(2026, 3, 8, 3, tzinfo=UTC)
    assert views[1].ends_at == datetime(2026, 3, 8, 3, 30, tzinfo=UTC)
    assert monitors_in_maintenance(NOW) == {api}
    assert monitors_in_maintenance(datetime(2026, 3, 8, 3, 10, tzinfo=UTC)) == {web}
    assert monitors_in_maintenance(NOW + timedelta(hours=2)) == set()
