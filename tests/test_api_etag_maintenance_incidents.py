"""ETag / If-Match on maintenance windows and incidents: a GET answers an ETag, a write sent
with a stale If-Match is a 412 problem carrying the current ETag and changes nothing, checked in
the write's own transaction (a change made between the read and the write is caught)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from storage.incidents import admin_incident, post_update
from storage.maintenance_admin import window_details

AUTH = {"Authorization": "Bearer s3cret-token"}
SOON = datetime.now(UTC) + timedelta(hours=1)
WINDOW = {"title": "DB upgrade", "starts_at": SOON.isoformat(),
          "ends_at": (SOON + timedelta(hours=2)).isoformat()}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def test_a_stale_if_match_on_a_window_is_refused(client: TestClient) -> None:
    made = client.post("/api/v1/maintenance", json=WINDOW, headers=AUTH).json()
    path = f"/api/v1/maintenance/{made['id']}"
    read = client.get(path, headers=AUTH)
    etag = read.headers["ETag"]
    changed = client.patch(path, json={"title": "DB upgrade, part 1"},
                           headers={**AUTH, "If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    for method, body in (("PATCH", {"title": "Lost"}), ("DELETE", None)):
        stale = client.request(method, path, json=body, headers={**AUTH, "If-Match": etag})
        assert stale.status_code == 412, stale.text
        assert stale.headers["content-type"] == "application/problem+json"
        assert stale.json()["current_etag"] == changed.headers["ETag"]
    assert [w.title for w in window_details()] == ["DB upgrade, part 1"]
    assert client.delete(path, headers={**AUTH, "If-Match": changed.headers["ETag"]}
                         ).status_code == 204


def test_a_stale_if_match_on_an_incident_is_refused(client: TestClient) -> None:
    opened = client.post("/api/v1/incidents", headers=AUTH,
                         json={"title": "Slow", "message": "Looking into it"}).json()
    path = f"/api/v1/incidents/{opened['id']}"
    etag = client.get(path, headers=AUTH).headers["ETag"]
    # Someone posts from the dashboard after our read: our update, sent with If-Match, is not.
    post_update(opened["id"], "identified", "Found it", actor="admin")
    stale = client.post(f"{path}/updates", headers={**AUTH, "If-Match": etag},
                        json={"status": "monitoring", "message": "Fixed, watching"})
    assert stale.status_code == 412, stale.text
    resolved = client.post(f"{path}/resolve", headers={**AUTH, "If-Match": etag}, json={})
    assert resolved.status_code == 412
    incident = admin_incident(opened["id"])
    assert incident is not None and incident.status == "identified"
    fresh = client.get(path, headers=AUTH).headers["ETag"]
    assert stale.json()["current_etag"] == fresh
    done = client.post(f"{path}/resolve", headers={**AUTH, "If-Match": fresh}, json={})
    assert done.status_code == 200 and done.json()["status"] == "resolved"
