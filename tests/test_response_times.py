"""MTTA / MTTR: the definition's edges (pure), the storage read on a real SQLite file, the
Reports page's section through AppTest and GET /api/v1/reports/response-times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from analytics.incident_times import (
    IncidentTimes,
    Interval,
    calendar_month,
    grouped,
    per_period,
    summarize,
)
from storage.db import get_engine
from storage.incident_times import (
    incident_times_between,
    monitor_response_times,
    month_periods,
)
from storage.models import Incident, MaintenanceWindow, Monitor
from tests.pages_support import logged_in
from tests.stats_support import new_monitor
from ui.response_times import month_frame
from web.response_times_api import response_time_routes

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer s3cret-token"}
BERLIN = ZoneInfo("Europe/Berlin")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def window(start: float, end: float) -> Interval:
    return at(start), at(end)


def one(acked: float | None, resolved: float | None, maintenance: list[Interval] | None = None,
        monitor_id: int | None = 1) -> tuple[float | None, float | None, int, int, int, int]:
    incident = IncidentTimes(T0, None if acked is None else at(acked),
                             None if resolved is None else at(resolved), monitor_id)
    times = summarize([incident], {1: maintenance or []}, NOW)
    return (times.mtta_mean, times.mttr_mean, times.incidents, times.unacknowledged,
            times.still_open, times.in_maintenance)


@pytest.mark.parametrize(("acked", "resolved", "maintenance", "monitor_id", "expected"), [
    # acknowledged exactly at open: a real zero, counted
    (0, 10, None, 1, (0.0, 600.0, 1, 0, 0, 0)),
    # never acknowledged, resolved: out of MTTA, counted as unacknowledged, in MTTR
    (None, 20, None, 1, (None, 1200.0, 1, 1, 0, 0)),
    # never acknowledged, still open: in neither mean, counted in both
    (None, None, None, 1, (None, None, 1, 1, 1, 0)),
    (5, None, None, 1, (300.0, None, 1, 0, 1, 0)),
    # maintenance from 2 to 12 min: 3 of the 5 min to acknowledge, 10 of the 30 to resolve
    (5, 30, [window(2, 12)], 1, (120.0, 1200.0, 1, 0, 0, 0)),
    # maintenance that began before the incident and ended 4 min in
    (5, 10, [window(-10, 4)], 1, (60.0, 360.0, 1, 0, 0, 0)),
    # overlapping windows count once: 0 .. 15 min is maintenance
    (None, 20, [window(0, 10), window(5, 15)], 1, (None, 300.0, 1, 1, 0, 0)),
    # wholly inside maintenance: not counted at all
    (5, 30, [window(-60, 60)], 1, (None, None, 0, 0, 0, 1)),
    # still open, and maintenance has lasted from before the opening until after now
    (None, None, [(at(-1), NOW + timedelta(hours=1))], 1, (None, None, 0, 0, 0, 1)),
    # ... but a window that ended before now leaves it counted
    (None, None, [window(-1, 60)], 1, (None, None, 1, 1, 1, 0)),
    # resolved at the moment it opened, inside maintenance: nothing to count
    (0, 0, [window(-1, 1)], 1, (None, None, 0, 0, 0, 1)),
    # a maintenance window ending at the opening does not cover it
    (0, 0, [window(-5, 0)], 1, (0.0, 0.0, 1, 0, 0, 0)),
    # stamps before the opening (a clock set back) count as zero
    (-3, -1, None, 1, (0.0, 0.0, 1, 0, 0, 0)),
    # an incident without a monitor has no maintenance
    (5, 10, [window(0, 60)], None, (300.0, 600.0, 1, 0, 0, 0)),
])
def test_one_incident(acked: float | None, resolved: float | None,
                      maintenance: list[Interval] | None, monitor_id: int | None,
                      expected: tuple[float | None, float | None, int, int, int, int]) -> None:
    assert one(acked, resolved, maintenance, monitor_id) == expected


def incident(opened: datetime, ack_min: float | None, fix_min: float | None, *,
             monitor: str | None = "api", group: str | None = "Backend",
             severity: str | None = "high", monitor_id: int | None = 1) -> IncidentTimes:
    def later(minutes: float | None) -> datetime | None:
        return None if minutes is None else opened + timedelta(minutes=minutes)
    return IncidentTimes(opened, later(ack_min), later(fix_min), monitor_id, monitor,
                         None if monitor is None else monitor.upper(), group, severity)


def test_mean_median_and_counts_over_several() -> None:
    times = summarize([incident(at(0), 1, 10), incident(at(60), 2, 20), incident(at(120), 9, 90),
                       incident(at(180), None, None)], {}, NOW)
    assert (times.incidents, times.acknowledged, times.resolved) == (4, 3, 3)
    assert (times.unacknowledged, times.still_open) == (1, 1)
    assert times.mtta_mean == 240.0 and times.mtta_median == 120.0
    assert times.mttr_mean == 2400.0 and times.mttr_median == 1200.0
    assert summarize([], {}, NOW).mtta_mean is None


def test_grouping_by_monitor_group_and_severity() -> None:
    incidents = [
        incident(at(0), 1, 10, monitor="web", group="Front", severity="low", monitor_id=2),
        incident(at(5), 3, 30, monitor="api", group="Backend", severity="critical"),
        incident(at(9), 5, 50, monitor="api", group="Backend", severity="high"),
        incident(at(20), None, 5, monitor=None, group=None, severity=None, monitor_id=None),
    ]
    by_monitor = grouped(incidents, {}, "monitor", NOW)
    assert [(g.key, g.label, g.times.incidents) for g in by_monitor] == [
        ("api", "API", 2), ("web", "WEB", 1), ("", "No monitor", 1)]
    assert by_monitor[0].times.mtta_mean == 240.0
    assert [g.label for g in grouped(incidents, {}, "group", NOW)] == [
        "Backend", "Front", "Ungrouped"]
    assert [g.label for g in grouped(incidents, {}, "severity", NOW)] == [
        "P1 · critical", "P2 · high", "P4 · low", "Not set"]
    # Each monitor's own maintenance: web's window leaves api's incidents alone.
    in_web = grouped(incidents, {2: [window(-1, 30)]}, "monitor", NOW)
    assert [(g.key, g.times.in_maintenance) for g in in_web][:2] == [("api", 0), ("web", 1)]
    with pytest.raises(ValueError, match="group by one of monitor, group, severity"):
        grouped(incidents, {}, "colour", NOW)  # type: ignore[arg-type]


def test_an_incident_crossing_a_month_boundary_counts_in_its_opening_month() -> None:
    late = incident(datetime(2026, 3, 31, 23, 50, tzinfo=UTC), 5, 40)
    months = month_periods(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC), UTC)
    rows = per_period([late], {}, months, "monitor", NOW)
    assert [(r.period.label, r.overall.incidents) for r in rows] == [("2026-03", 1),
                                                                     ("2026-04", 0)]
    assert rows[0].overall.mttr_mean == 2400.0 and rows[1].groups == []


def test_months_in_a_zone_with_a_dst_change() -> None:
    # Berlin moves to summer time on 29 March 2026: its March is 31 days less an hour.
    start, end = calendar_month(datetime(2026, 3, 15, tzinfo=UTC), BERLIN)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (
        datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=31, hours=-1)
    assert calendar_month(datetime(2026, 1, 15, tzinfo=UTC), BERLIN, back=1)[0] == datetime(
        2025, 12, 1, tzinfo=BERLIN)
    months = month_periods(datetime(2026, 3, 1, tzinfo=BERLIN), datetime(2026, 5, 1, tzinfo=BERLIN),
                           BERLIN)
    # 21:30 UTC on 31 March is 23:30 in Berlin (March); 22:30 UTC is 00:30 on 1 April.
    march_night = incident(datetime(2026, 3, 31, 21, 30, tzinfo=UTC), 1, 2)
    april_night = incident(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 3, 4)
    first_hour = incident(datetime(2026, 2, 28, 23, 30, tzinfo=UTC), 5, 6)  # 00:30 on 1 March
    rows = per_period([first_hour, march_night, april_night], {}, months, "monitor", NOW)
    assert [(r.period.label, r.overall.incidents, r.overall.mtta_mean) for r in rows] == [
        ("2026-03", 2, 180.0), ("2026-04", 1, 180.0)]


def test_the_chart_has_each_months_means_in_minutes() -> None:
    months = month_periods(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), UTC)
    frame = month_frame(per_period([incident(at(0), 1.5, None)], {}, months, "monitor", NOW))
    assert frame.to_dict("records") == [{"month": "2026-03", "figure": "MTTA", "minutes": 1.5}]


# -- the storage read, on the test's own SQLite file ---------------------------------------------


def _monitor(name: str, group: str | None, severity: str) -> int:
    monitor_id = new_monitor(name)
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).where(Monitor.__table__.c.id == monitor_id)
                           .values(group_name=group, severity=severity))
    return monitor_id


def _incident(monitor_id: int | None, opened: datetime, ack_min: float | None,
              fix_min: float | None, severity: str | None = None) -> None:
    def later(minutes: float | None) -> datetime | None:
        return None if minutes is None else opened + timedelta(minutes=minutes)
    with get_engine().begin() as connection:
        connection.execute(insert(Incident.__table__).values(
            monitor_id=monitor_id, title="down", status="resolved" if fix_min else "investigating",
            started_at=opened, acknowledged_at=later(ack_min), resolved_at=later(fix_min),
            severity=severity, public=True, affected=[]))


def _window(**fields: object) -> None:
    with get_engine().begin() as connection:
        connection.execute(insert(MaintenanceWindow.__table__).values(
            title="upgrade", description="", timezone="UTC", notify=False, **fields))


def _statements(read: object) -> int:
    counted: list[int] = []

    def listener(*_: object) -> None:
        counted.append(1)
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        assert callable(read)
        read()
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    return len(counted)


def test_the_storage_read_gives_groups_severities_and_each_monitors_maintenance() -> None:
    api = _monitor("API", "Backend", "critical")
    web = _monitor("Web", None, "low")
    _incident(api, at(0), 5, 30, "critical")
    _incident(web, at(60), None, 20, "low")
    _incident(None, at(90), 1, 2)  # opened by hand, no monitor
    _incident(api, at(-24 * 60), 1, 2, "critical")  # a day before the range
    _window(monitor_id=api, starts_at=at(2), ends_at=at(12))  # api's own
    _window(group_name="Backend", starts_at=at(500), ends_at=at(600))  # after every span
    _window(cron="0 13 * * *", duration_minutes=10)  # every monitor, 13:00 UTC daily
    read = incident_times_between(at(-60), at(24 * 60), NOW)
    assert [(i.monitor, i.group, i.severity) for i in read.incidents] == [
        ("api", "Backend", "critical"), ("web", None, "low"), (None, None, None)]
    assert read.maintenance == {api: [window(2, 12)], web: [window(60, 70)]}
    times = grouped(read.incidents, read.maintenance, "monitor", NOW)
    assert [(g.label, g.times.mtta_mean, g.times.mttr_mean) for g in times] == [
        ("API", 120.0, 1200.0), ("Web", None, 600.0), ("No monitor", 60.0, 120.0)]
    only_api = incident_times_between(at(-60), at(24 * 60), NOW, monitor_id=api)
    assert [i.monitor for i in only_api.incidents] == ["api"]
    assert only_api.maintenance == {api: [window(2, 12)]}
    # Times in another zone are the same moments (SQLite compares UTC text).
    assert len(incident_times_between(at(-60).astimezone(BERLIN), at(61).astimezone(BERLIN),
                                      NOW).incidents) == 2


def test_the_monitor_pages_figures_are_the_reports_for_that_monitor_alone() -> None:
    api = _monitor("API", None, "high")
    web = _monitor("Web", None, "low")
    _incident(api, at(0), 5, 30, "high")
    _incident(api, at(-120), 1, 2, "high")  # opened before the window: not counted
    _incident(web, at(10), 1, 1, "low")  # another monitor's
    _window(monitor_id=api, starts_at=at(2), ends_at=at(12))  # 10 of api's minutes
    times = monitor_response_times(api, at(-60), at(60), NOW)
    assert (times.incidents, times.mtta_mean, times.mttr_mean) == (1, 120.0, 1200.0)


def test_the_storage_read_takes_the_same_statements_for_few_or_many_incidents() -> None:
    api = _monitor("API", "Backend", "high")
    _window(cron="0 * * * *", duration_minutes=5)
    _incident(api, at(0), 1, 2)
    few = _statements(lambda: incident_times_between(at(-1), at(10_000), NOW))
    for i in range(1, 12):
        _incident(_monitor(f"M{i}", f"g{i % 3}", "low"), at(i * 7), 1, None)
    assert _statements(lambda: incident_times_between(at(-1), at(10_000), NOW)) == few == 2


# -- the Reports page ---------------------------------------------------------------------------


def test_the_reports_page_shows_response_times_by_the_chosen_grouping() -> None:
    now = datetime.now(UTC)
    month_start = calendar_month(now, UTC)[0]
    api = _monitor("API", "Backend", "critical")
    web = _monitor("Web", "Front", "low")
    _incident(api, month_start + timedelta(minutes=1), 6, 16, "critical")
    _incident(web, month_start + timedelta(minutes=2), None, 40, "low")
    _incident(api, month_start - timedelta(days=40), 30, 60, "critical")  # not this month
    at_page = logged_in("reports.py")
    table = at_page.dataframe[0].value
    assert list(table["Monitor"]) == ["API", "Web"]
    assert list(table["MTTA"].fillna(-1)) == [6.0, -1] and list(table["MTTR"]) == [16.0, 40.0]
    assert list(table["Unacknowledged"]) == [0, 1]
    assert [m.value for m in at_page.metric][:3] == ["2", "6 min", "28 min"]
    months = json.loads(at_page.get("vega_lite_chart")[0].proto.spec)["encoding"]["x"]["scale"]
    assert months["domain"][-1] == f"{now:%Y-%m}" and len(months["domain"]) == 12
    at_page.selectbox(key="rt_by").select("severity").run()
    assert list(at_page.dataframe[0].value["Severity"]) == ["P1 · critical", "P4 · low"]
    at_page.selectbox(key="rt_range").select("Last 90 days").run()
    assert list(at_page.dataframe[0].value["Incidents"]) == [2, 1]
    at_page.selectbox(key="rt_range").select("Custom").run()
    today = now.date()
    at_page.date_input(key="rt_days").set_value((today - timedelta(days=80), today)).run()
    assert list(at_page.dataframe[0].value["Incidents"]) == [2, 1]
    assert not at_page.exception and not at_page.error
    at_page.date_input(key="rt_days").set_value((today - timedelta(days=500), today)).run()
    assert [e.value for e in at_page.error] == ["Pick at most 400 days."]


def test_the_reports_page_says_when_no_incident_opened() -> None:
    at_page = logged_in("reports.py")
    at_page.selectbox(key="rt_range").select("Last month").run()
    assert any("No incident opened" in info.value for info in at_page.info)


# -- the API route ------------------------------------------------------------------------------


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=response_time_routes()))


def test_the_api_answers_the_figures_grouped_and_per_month(client: TestClient) -> None:
    api = _monitor("API", "Backend", "critical")
    _incident(api, datetime(2026, 3, 31, 23, 50, tzinfo=UTC), 5, 40, "critical")
    _incident(api, datetime(2026, 4, 2, 8, 0, tzinfo=UTC), None, None, "critical")
    _window(monitor_id=api, starts_at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC),
            ends_at=datetime(2026, 4, 1, 0, 10, tzinfo=UTC))
    answer = client.get("/api/v1/reports/response-times", headers=AUTH, params={
        "from": "2026-03-01", "to": "2026-05-01", "by": "group", "per": "month"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["by"], body["per"], body["zone"]) == ("group", "month", "UTC")
    assert body["rows"][0]["label"] == "Backend" and body["rows"][0]["incidents"] == 2
    assert body["overall"] == {
        "incidents": 2, "acknowledged": 1, "unacknowledged": 1, "resolved": 1, "still_open": 1,
        "in_maintenance": 0, "mtta_seconds": 300.0, "mtta_median_seconds": 300.0,
        "mttr_seconds": 1800.0, "mttr_median_seconds": 1800.0}  # 40 min less 10 of maintenance
    assert [(m["month"], m["overall"]["incidents"]) for m in body["months"]] == [
        ("2026-03", 1), ("2026-04", 1)]
    assert body["months"][1]["from"] == "2026-04-01T00:00:00+00:00"
    plain = client.get("/api/v1/reports/response-times", headers=AUTH,
                       params={"from": "2026-04-01T00:00:00Z", "to": "2026-04-30"}).json()
    assert plain["per"] is None and "months" not in plain and plain["by"] == "monitor"
    assert [(r["key"], r["still_open"]) for r in plain["rows"]] == [("api", 1)]


def test_the_api_needs_a_token_and_refuses_bad_parameters(client: TestClient) -> None:
    path = "/api/v1/reports/response-times"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    default = client.get(path, headers=AUTH).json()  # this month
    assert default["overall"]["incidents"] == 0 and default["rows"] == []
    bad = client.get(path, headers=AUTH, params={"from": "2026-13-01", "by": "colour",
                                                 "per": "week"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"from", "by", "per"}
    backwards = client.get(path, headers=AUTH, params={"from": "2026-03-02", "to": "2026-03-01"})
    assert backwards.json()["errors"] == [{"field": "to", "message": "must come after 'from'"}]
    too_long = client.get(path, headers=AUTH, params={"from": "2025-01-01", "to": "2026-03-01"})
    assert too_long.json()["errors"] == [
        {"field": "from", "message": "ask for at most 400 days at a time"}]


def test_the_reports_page_reads_the_incidents_of_days_in_its_zone() -> None:
    # 19:00 UTC on the last day of last month is 09:00 on the 1st in Kiritimati (UTC+14).
    first = datetime.now(UTC).date().replace(day=1)
    _incident(None, datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=5),
              1, 2)
    at_page = logged_in("reports.py")
    at_page.text_input(key="report_tz").input("Pacific/Kiritimati").run()
    assert "Incidents: 1 rows" in [caption.value for caption in at_page.caption]
