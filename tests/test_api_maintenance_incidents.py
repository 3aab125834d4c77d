"""Maintenance windows and incidents over REST: read with the read scope, written with the
write scope through the dashboard's storage functions, audited as the token's; bad input is a
problem naming the field and saves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from storage.api_tokens import create_token
from storage.audit import audit_page
from storage.incidents import admin_incidents
from storage.maintenance_admin import window_details

AUTH = {"Authorization": "Bearer s3cret-token"}
SOON = datetime.now(UTC) + timedelta(hours=1)
WINDOW = {"title": "DB upgrade", "monitor": "api", "starts_at": SOON.isoformat(),
          "ends_at": (SOON + timedelta(hours=2)).isoformat(), "notify": True}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        test_client.post("/api/v1/monitors", headers=AUTH,
                         json={"name": "API", "url": "http://127.0.0.1:9/"})
        yield test_client


def _bearer(scope: str) -> dict[str, str]:
    _, token = create_token(scope, scope, None, actor="admin")
    return {"Authorization": f"Bearer {token}"}


def test_maintenance_windows_are_made_changed_and_deleted(client: TestClient) -> None:
    writer, reader = _bearer("write"), _bearer("read")
    assert client.post("/api/v1/maintenance", json=WINDOW, headers=reader).status_code == 403
    made = client.post("/api/v1/maintenance", json=WINDOW, headers=writer)
    assert made.status_code == 201, made.text
    window = made.json()
    assert (window["monitor"], window["notify"], window["cron"]) == ("api", True, None)
    assert client.get("/api/v1/maintenance", headers=reader).json() == [window]
    path = f"/api/v1/maintenance/{window['id']}"
    weekly = client.patch(path, headers=writer, json={
        "cron": "0 2 * * 0", "duration_minutes": 60, "timezone": "Europe/Berlin"})
    assert weekly.status_code == 200, weekly.text
    assert (weekly.json()["cron"], weekly.json()["title"]) == ("0 2 * * 0", "DB upgrade")
    assert client.delete(path, headers=writer).status_code == 204
    assert client.get(path, headers=reader).status_code == 404
    assert [(e.actor, e.action) for e in audit_page() if e.subject_kind == "maintenance"] == [
        ("token:write", "deleted"), ("token:write", "updated"), ("token:write", "created")]


def test_a_bad_window_names_its_fields_and_saves_nothing(client: TestClient) -> None:
    bad = client.post("/api/v1/maintenance", headers=AUTH, json={
        **WINDOW, "monitor": "nope", "ends_at": "yesterday", "colour": "red"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"monitor", "ends_at", "colour"}
    made = client.post("/api/v1/maintenance", headers=AUTH, json=WINDOW).json()
    refused = client.patch(f"/api/v1/maintenance/{made['id']}", headers=AUTH,
                           json={"title": "", "cron": "every day", "duration_minutes": 60})
    assert {e["field"] for e in refused.json()["errors"]} == {"title", "cron"}
    (kept,) = window_details()
    assert (kept.title, kept.cron) == ("DB upgrade", None)


def test_incidents_are_opened_updated_acknowledged_and_resolved(client: TestClient) -> None:
    writer, reader = _bearer("write"), _bearer("read")
    opened = client.post("/api/v1/incidents", headers=writer, json={
        "title": "Checkout is slow", "message": "We are looking into it.", "monitor": "api"})
    assert opened.status_code == 201, opened.text
    incident = opened.json()
    assert (incident["status"], incident["monitor_name"]) == ("investigating", "API")
    path = f"/api/v1/incidents/{incident['id']}"
    assert client.post(f"{path}/updates", headers=reader, json={}).status_code == 403
    update = client.post(f"{path}/updates", headers=writer,
                         json={"status": "identified", "message": "A slow query."})
    assert update.json()["status"] == "identified"
    acked = client.post(f"{path}/acknowledge", headers=writer, json={"by": "ann"})
    assert acked.status_code == 200
    again = client.post(f"{path}/acknowledge", headers=writer, json={})
    assert again.status_code == 409 and again.json()["status"] == 409
    resolved = client.post(f"{path}/resolve", headers=writer, json={}).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert [u["status"] for u in client.get(path, headers=reader).json()["updates"]] == [
        "resolved", "identified", "investigating"]
    assert [i["id"] for i in client.get("/api/v1/incidents", headers=reader).json()] == [
        incident["id"]]
    assert [e.action for e in audit_page() if e.subject_kind == "incident"
            and e.actor == "token:write"] == [
        "posted update", "acknowledged", "posted update", "created"]
    assert client.get("/api/v1/incidents/999", headers=reader).status_code == 404


def test_a_bad_incident_names_its_fields_and_saves_nothing(client: TestClient) -> None:
    bad = client.post("/api/v1/incidents", headers=AUTH,
                      json={"title": " ", "status": "panicking", "message": "x"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"title"}
    worse = client.post("/api/v1/incidents", headers=AUTH,
                        json={"title": "Down", "status": "panicking", "message": ""})
    assert {e["field"] for e in worse.json()["errors"]} == {"status", "message"}
    assert admin_incidents() == []
