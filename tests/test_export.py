"""Exports of results, incidents and the SLA report, through storage and through the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from domain.decide import Thresholds
from domain.result import ProbeResult
from storage.export import incidents_between, sla_report, to_csv
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import new_monitor, record
from web.export_api import export_routes

pytestmark = pytest.mark.usefixtures("backend")

AUTH = {"Authorization": "Bearer s3cret-token"}
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def minutes(start: datetime, count: int, down: range = range(0)) -> list[ProbeResult]:
    return [
        ProbeResult("down", start + timedelta(minutes=i), reason="HTTP 503")
        if i in down else ProbeResult("up", start + timedelta(minutes=i), latency_ms=100.0 + i % 7)
        for i in range(count)
    ]


def test_sla_report_per_month_with_downtime_incidents_and_percentiles() -> None:
    web = new_monitor("Web")
    new_monitor("Quiet")
    # 28 Feb 23:00 .. 1 Mar 01:00 UTC, down for 30 minutes from 00:10 on 1 March.
    start = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    record(web, minutes(start, 120, down=range(70, 100)), batch=40, limits=Thresholds(1, 1))
    rows = sla_report(date(2026, 2, 1), date(2026, 3, 31), UTC, now=NOW)
    by_key = {(r["monitor"], r["month"]): r for r in rows}
    february, march = by_key[("web", "2026-02")], by_key[("web", "2026-03")]
    assert (february["uptime_percent"], february["downtime_minutes"], february["incidents"]) == (
        100.0, 0, 0)
    assert march["downtime_minutes"] == 30 and march["incidents"] == 1
    # Observed in March: 00:00 .. 00:59 of results, then the tail in "up" until NOW.
    observed = (NOW - datetime(2026, 3, 1, tzinfo=UTC)).total_seconds() / 60
    assert march["uptime_percent"] == pytest.approx(100 * (1 - 30 / observed), abs=1e-3)
    assert march["p50_ms"] == pytest.approx(103.0, rel=0.01)
    assert by_key[("quiet", "2026-03")]["uptime_percent"] is None
    # In another zone the months cut elsewhere: Berlin's March starts at 23:00 UTC.
    berlin = sla_report(date(2026, 3, 1), date(2026, 3, 31), ZoneInfo("Europe/Berlin"), now=NOW)
    assert {r["month"] for r in berlin} == {"2026-03"}
    assert len(incidents_between(start, NOW)) == 1


def test_incidents_count_in_the_month_of_the_zone_they_opened_in() -> None:
    edge = new_monitor("Edge")
    # Opens at 23:30 UTC on 28 February: 00:30 on 1 March in Berlin.
    record(edge, minutes(datetime(2026, 2, 28, 23, 0, tzinfo=UTC), 60, down=range(30, 40)),
           batch=60, limits=Thresholds(1, 1))
    rows = sla_report(date(2026, 2, 1), date(2026, 3, 31), ZoneInfo("Europe/Berlin"), now=NOW)
    counts = {r["month"]: r["incidents"] for r in rows if r["monitor"] == "edge"}
    assert counts == {"2026-02": 0, "2026-03": 1}


def test_csv_cells_are_text_and_formulas_are_not_run() -> None:
    text = to_csv([{"a": "=HYPERLINK(1)", "b": None, "c": 1.5}], ("a", "b", "c"))
    assert list(csv.reader(io.StringIO(text))) == [["a", "b", "c"], ["'=HYPERLINK(1)", "", "1.5"]]


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=export_routes()))


def test_results_export_as_csv_and_json(client: TestClient) -> None:
    web = new_monitor("Web")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    record(web, minutes(start, 60, down=range(5, 6)))
    params = {"from": start.isoformat(), "to": (start + timedelta(minutes=30)).isoformat()}
    as_json = client.get("/api/v1/monitors/web/results.json", params=params, headers=AUTH)
    assert as_json.status_code == 200
    body = as_json.json()
    assert len(body) == 30 and body[5]["outcome"] == "down" and body[5]["reason"] == "HTTP 503"
    assert datetime.fromisoformat(body[0]["checked_at"]) == start
    as_csv = client.get("/api/v1/monitors/web/results.csv", params=params, headers=AUTH)
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == 30 and table[0]["latency_ms"] == "100.0"
    # The default range is the last 24 hours.
    assert len(client.get("/api/v1/monitors/web/results.json", headers=AUTH).json()) == 60


def test_sla_export_through_the_api(client: TestClient) -> None:
    web = new_monitor("Web")
    today = datetime.now(UTC).date()
    record(web, minutes(datetime.now(UTC) - timedelta(hours=3), 60))
    params = {"from": str(today - timedelta(days=1)), "to": str(today), "tz": "UTC"}
    rows = client.get("/api/v1/reports/sla.json", params=params, headers=AUTH).json()
    assert [r["monitor"] for r in rows] == ["web"] * len(rows) and rows[-1]["uptime_percent"] == 100
    text = client.get("/api/v1/reports/sla.csv", params=params, headers=AUTH).text
    assert text.splitlines()[0] == (
        "monitor,name,month,uptime_percent,downtime_minutes,incidents,p50_ms,p95_ms,p99_ms")


def test_exports_need_the_token_and_valid_parameters(client: TestClient) -> None:
    new_monitor("Web")
    assert client.get("/api/v1/reports/sla.csv").status_code == 401
    assert client.get("/api/v1/monitors/web/results.json",
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/v1/monitors/nope/results.json", headers=AUTH).status_code == 404
    assert client.get("/api/v1/monitors/web/results.xml", headers=AUTH).status_code == 404
    bad = client.get("/api/v1/reports/sla.json", headers=AUTH,
                     params={"from": "2026-13-01", "tz": "Mars/Olympus"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"from", "tz"}
    backwards = client.get("/api/v1/monitors/web/results.csv", headers=AUTH,
                           params={"from": "2026-03-02", "to": "2026-03-01"})
    assert backwards.status_code == 422
    assert backwards.json()["errors"] == [{"field": "to", "message": "must come after 'from'"}]
    too_long = client.get("/api/v1/monitors/web/results.csv", headers=AUTH,
                          params={"from": "2025-01-01", "to": "2026-03-01"})
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [
        {"field": "from", "message": "ask for at most 92 days of results at a time"}]


def test_reports_page_offers_downloads_to_admins_only() -> None:
    web = new_monitor("Web")
    record(web, minutes(datetime.now(UTC) - timedelta(hours=1), 30))
    page = str(Path(__file__).resolve().parent.parent / "pages" / "reports.py")
    at = AppTest.from_file(page, default_timeout=30).run()
    assert not at.get("download_button")  # locked without the admin login
    at.session_state["is_admin"] = True  # what a valid sign-in cookie gives a browser
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="report_monitor").value == "Web"
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Results (CSV)" in labels and "Incidents (JSON)" in labels
    at.text_input(key="report_tz").input("Mars/Olympus").run()
    assert "Unknown time zone" in at.error[0].value
