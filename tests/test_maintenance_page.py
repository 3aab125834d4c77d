"""The maintenance page, headless with AppTest, and the window form's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from domain.monitor_input import InvalidInput, parse_monitor_input
from storage.maintenance import scheduled_maintenance
from storage.maintenance_admin import list_windows
from storage.monitors import create_monitor
from tests.pages_support import errors
from tests.pages_support import logged_in as admin_page
from ui.maintenance_forms import parse_window_form


def logged_in() -> AppTest:
    return admin_page("maintenance.py")


def recurring(at: AppTest, cron: str, zone: str = "UTC", minutes: int = 30) -> AppTest:
    at.text_input(key="mw_title").input("Weekly reboot")
    at.toggle(key="mw_recurring").set_value(True).run()
    at.text_input(key="mw_cron").input(cron)
    at.text_input(key="mw_timezone").input(zone)
    at.number_input(key="mw_duration_minutes").set_value(minutes)
    return at.button(key="mw_save").click().run()


@pytest.mark.parametrize(("cron", "zone", "minutes", "field", "message"), [
    ("0 2 * *", "UTC", 30, "cron", "use five fields"),
    ("0 25 * * *", "UTC", 30, "cron", "is not a valid cron expression"),
    ("0 2 * * 0", "Mars/Olympus", 30, "timezone", "unknown time zone 'Mars/Olympus'"),
    ("0 2 * * 0", "UTC", 0, "duration", "give a duration of at least 1 minute"),
])
def test_bad_recurring_windows_are_refused_and_nothing_saved(
    cron: str, zone: str, minutes: int, field: str, message: str
) -> None:
    at = recurring(logged_in(), cron, zone, minutes)
    assert "Nothing was saved: fix the fields marked below." in errors(at)
    assert any(message in e for e in errors(at)), errors(at)
    assert list_windows() == []


def test_a_one_off_window_ending_before_it_starts_is_refused() -> None:
    at = logged_in()
    at.text_input(key="mw_title").input("DB upgrade")
    at.date_input(key="mw_start_date").set_value(date(2030, 1, 2))
    at.date_input(key="mw_end_date").set_value(date(2030, 1, 1))
    at.button(key="mw_save").click().run()
    assert "the window must end after it starts" in errors(at)
    assert list_windows() == []


def test_a_one_off_window_for_a_monitor_is_saved_and_listed() -> None:
    api = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"}))
    at = logged_in()
    at.text_input(key="mw_title").input("DB upgrade")
    at.radio(key="mw_scope").set_value("monitor").run()
    at.selectbox(key="mw_monitor_id").set_value(api.id)
    at.text_input(key="mw_timezone").input("Europe/Berlin")
    start = datetime.now(UTC) + timedelta(days=1)
    at.date_input(key="mw_start_date").set_value(start.date())
    at.time_input(key="mw_start_time").set_value(time(10, 0))
    at.date_input(key="mw_end_date").set_value(start.date())
    at.time_input(key="mw_end_time").set_value(time(11, 30))
    at.checkbox(key="mw_notify").check()
    at.button(key="mw_save").click().run()
    assert not errors(at), errors(at)
    (window,) = list_windows()
    assert (window.title, window.scope, window.notify) == ("DB upgrade", "monitor API", True)
    # 10:00 on that day in Berlin, with the offset in force then (CET or CEST)
    berlin_ten = datetime.combine(start.date(), time(10, 0), tzinfo=ZoneInfo("Europe/Berlin"))
    assert window.starts_at == berlin_ten.astimezone(UTC)
    assert window.ends_at == berlin_ten.astimezone(UTC) + timedelta(minutes=90)
    table = at.dataframe[0].value
    assert list(table["Title"]) == ["DB upgrade"]


def test_a_recurring_window_is_listed_and_deleted() -> None:
    at = recurring(logged_in(), "0 3 * * *", minutes=45)
    assert not errors(at), errors(at)
    upcoming = scheduled_maintenance(horizon_days=14)
    assert len(upcoming) >= 13 and upcoming[0].ends_at - upcoming[0].starts_at == timedelta(
        minutes=45)
    assert len(at.dataframe[0].value) == len(upcoming)
    (window,) = list_windows()
    at.button(key=f"mw_delete_{window.id}").click().run()
    assert list_windows() == []
    assert "No maintenance planned." in [i.value for i in at.info]


def test_form_rules_without_a_page() -> None:
    now = datetime(2026, 3, 4, 12, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        parse_window_form({"title": " ", "scope": "group", "group_name": "",
                           "start_date": date(2026, 3, 1), "start_time": time(1),
                           "end_date": date(2026, 3, 1), "end_time": time(2)}, now)
    assert refused.value.errors == {
        "title": "give the window a title, e.g. 'Database upgrade'",
        "group_name": "choose the group this window is for",
        "ends_at": "this window would already be over: choose a future end",
    }
    spec = parse_window_form({"title": "Backups", "scope": "group", "group_name": "Backend",
                              "recurring": True, "cron": " 0  2 * * 0 ",
                              "timezone": "Europe/Berlin", "duration_minutes": 90}, now)
    assert (spec.cron, spec.group_name, spec.duration_minutes, spec.starts_at) == (
        "0 2 * * 0", "Backend", 90, None)
