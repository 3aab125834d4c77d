"""A monitor's severity (P1 critical .. P4 low): set in the form, the REST API and the monitors
file, refused with a clear message when unknown, used by quiet hours, and taken by the incidents
the monitor opens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from alerting.routing import QuietHours
from composition.web_process import Runtime, build_routes
from config.monitors_file import parse_monitors_file
from domain.monitor_input import InvalidInput, parse_monitor_input
from domain.result import ProbeResult
from domain.severity import SEVERITIES, SEVERITY_RANK, priority, severity_label
from storage.incidents import admin_incidents, create_incident
from storage.monitors import create_monitor, get_monitor, list_monitors, save_monitors_file
from storage.results import record_result
from tests.pages_support import logged_in

AUTH = {"Authorization": "Bearer s3cret-token"}
URL = "http://127.0.0.1:9/"


@pytest.mark.parametrize(("severity", "shown", "p"), [
    ("critical", "P1 · critical", "P1"), ("high", "P2 · high", "P2"),
    ("medium", "P3 · medium", "P3"), ("low", "P4 · low", "P4"),
    (None, "P2 · high", "P2"), ("bogus", "P2 · high", "P2"),  # unknown: the default's
])
def test_each_severity_is_shown_as_its_priority(severity, shown, p) -> None:
    assert severity_label(severity) == shown and priority(severity) == p


def test_ranks_follow_urgency() -> None:
    ranks = [SEVERITY_RANK[s] for s in SEVERITIES]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == 4


NIGHT = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("minimum", "through"), [
    ("critical", {"critical"}), ("high", {"critical", "high"}),
    ("medium", {"critical", "high", "medium"}), ("low", set(SEVERITIES)),
])
def test_quiet_hours_let_through_what_is_at_least_their_minimum(minimum, through) -> None:
    quiet = QuietHours("22:00", "07:00", "UTC", minimum)
    assert {s for s in SEVERITIES if not quiet.silences(s, NIGHT)} == through
    assert not any(quiet.silences(s, DAY) for s in SEVERITIES)  # outside: nothing silenced


def test_the_monitor_input_takes_a_severity_and_refuses_an_unknown_one() -> None:
    assert parse_monitor_input({"name": "A", "url": URL}).severity == "high"
    assert parse_monitor_input({"name": "A", "url": URL, "severity": "medium"}).severity == "medium"
    with pytest.raises(InvalidInput) as refused:
        parse_monitor_input({"name": "A", "url": URL, "severity": "P1"})
    assert refused.value.errors == {
        "severity": "choose critical (P1), high (P2), medium (P3) or low (P4)"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def test_the_api_sets_changes_and_shows_the_severity(client: TestClient) -> None:
    created = client.post("/api/v1/monitors", headers=AUTH,
                          json={"name": "API", "url": URL, "severity": "critical"})
    assert created.status_code == 201 and created.json()["severity"] == "critical"
    changed = client.patch("/api/v1/monitors/api", headers=AUTH, json={"severity": "low"})
    assert changed.status_code == 200 and changed.json()["severity"] == "low"
    refused = client.patch("/api/v1/monitors/api", headers=AUTH, json={"severity": "urgent"})
    assert refused.status_code == 422 and "severity" in refused.text
    assert get_monitor("api").severity == "low"  # the refused change saved nothing


def test_the_monitors_file_sets_the_severity() -> None:
    save_monitors_file(parse_monitors_file(
        f"monitors:\n  - name: DB\n    url: {URL}\n    severity: critical\n"))
    assert [m.severity for m in list_monitors()] == ["critical"]


def test_the_add_form_saves_the_chosen_severity() -> None:
    at = logged_in("dashboard.py")
    at.text_input(key="add_name").input("API")
    at.text_input(key="add_url").input(URL)
    at.selectbox(key="add_severity").select("medium")
    next(b for b in at.button if b.label == "Add monitor").click()
    at.run()
    assert [m.severity for m in list_monitors()] == ["medium"]


def test_an_incident_takes_its_monitors_severity() -> None:
    monitor = create_monitor(parse_monitor_input(
        {"name": "Pay", "url": URL, "severity": "critical", "failures_before_down": 1}))
    record_result(monitor.id, ProbeResult("down", datetime.now(UTC) - timedelta(seconds=5),
                                          reason="HTTP 503"))
    create_incident("By hand", "investigating", "Looking.", monitor_id=monitor.id)
    create_incident("Unrelated", "investigating", "Looking.")
    severities = {i.title: i.severity for i in admin_incidents()}
    assert severities == {"Pay is down": "critical", "By hand": "critical", "Unrelated": None}
