"""GET /api/v1/status and the public status it is built from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.monitor_input import InvalidInput
from storage.db import get_engine
from storage.incidents import create_incident, post_update
from storage.models import MaintenanceWindow
from storage.status import LayoutRow, page_layout, public_status, save_layout
from tests.status_support import monitor, public_client


def test_it_answers_state_components_incidents_and_maintenance() -> None:
    api = monitor("Api", state="down", reason="refused")
    monitor("Web")
    incident = create_incident("Api errors", "investigating", "Looking *into* it",
                               monitor_id=api.id)
    post_update(incident, "identified", "A bad deploy")
    now = datetime.now(UTC)
    with get_engine().begin() as connection:
        connection.execute(MaintenanceWindow.__table__.insert().values(
            title="Database upgrade", description="Short pauses", timezone="UTC",
            starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3)))
    client, _ = public_client()
    answer = client.get("/api/v1/status")
    assert answer.status_code == 200 and answer.headers["etag"]
    body = answer.json()
    assert body["state"] == "partial_outage"
    assert [c["name"] for c in body["components"]] == ["Api", "Web"]
    assert set(body["components"][0]["uptime"]) == {"24h", "7d", "30d", "90d"}
    [active] = [i for i in body["incidents"] if i["title"] == "Api errors"]
    assert active["title"] == "Api errors" and active["status"] == "identified"
    assert [u["status"] for u in active["updates"]] == ["identified", "investigating"]
    [window] = body["maintenance"]
    assert (window["title"], window["scope"], window["active"]) == (
        "Database upgrade", "all services", False)
    again = client.get("/api/v1/status", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_groups_and_order_come_from_the_layout() -> None:
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        monitor(name)
    rows = {row.name: row for row in page_layout()}
    save_layout([
        LayoutRow(rows["Alpha"].monitor_id, "Alpha", True, "Backend", 2, False),
        LayoutRow(rows["Beta"].monitor_id, "Beta", True, "Backend", 1, False),
        LayoutRow(rows["Gamma"].monitor_id, "Gamma", True, "Frontend", 0, True),
        LayoutRow(rows["Delta"].monitor_id, "Delta", True, "  ", 5, False),
    ])
    status = public_status()
    assert [(g, [c.name for c in cs]) for g, cs in status.groups()] == [
        (None, ["Delta"]), ("Frontend", ["Gamma"]), ("Backend", ["Beta", "Alpha"])]
    gamma = next(c for c in status.components if c.name == "Gamma")
    assert gamma.url == "https://svc.example/"  # shown because the layout says so
    assert all(c.url is None for c in status.components if c.name != "Gamma")


def test_a_bad_layout_row_saves_nothing() -> None:
    monitor("Alpha")
    [row] = page_layout()
    with pytest.raises(InvalidInput) as refused:
        save_layout([LayoutRow(row.monitor_id, "Alpha", True, "x" * 101, 0, False)])
    assert "Alpha" in refused.value.errors
    assert page_layout()[0].group is None


def test_banner_states() -> None:
    from storage.status import overall_state
    status = public_status()
    assert status.overall == "operational" and overall_state([]) == "operational"
    monitor("A", state="degraded")
    monitor("B")
    assert public_status().overall == "degraded"


def test_it_waits_for_the_first_snapshot() -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from readmodel.read_model import ReadModel
    from web.status_api import status_api_routes

    client = TestClient(Starlette(routes=status_api_routes(ReadModel())))
    assert client.get("/api/v1/status").status_code == 503
