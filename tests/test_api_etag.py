"""ETag / If-Match: an update or delete sent with an old ETag is a 412 problem carrying the
current one, and changes nothing; without If-Match writes work as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from storage.alerting_admin import escalation_settings
from storage.audit import audit_page
from storage.monitors import get_monitor

AUTH = {"Authorization": "Bearer s3cret-token"}
API = {"name": "API", "url": "http://127.0.0.1:9/health", "interval": 30}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def test_two_editors_of_a_monitor_do_not_lose_an_update(client: TestClient) -> None:
    client.post("/api/v1/monitors", json=API, headers=AUTH)
    read = client.get("/api/v1/monitors/api", headers=AUTH)
    etag = read.headers["etag"]
    assert etag.startswith('"') and len(etag) == 34
    first = client.patch("/api/v1/monitors/api", json={"interval": 60},
                         headers={**AUTH, "If-Match": etag})
    assert first.status_code == 200 and first.headers["etag"] not in ("", etag)
    second = client.patch("/api/v1/monitors/api", json={"interval": 120},
                          headers={**AUTH, "If-Match": etag})
    assert second.status_code == 412
    assert second.headers["content-type"] == "application/problem+json"
    assert second.headers["etag"] == second.json()["current_etag"] == first.headers["etag"]
    gone = client.delete("/api/v1/monitors/api", headers={**AUTH, "If-Match": etag})
    assert gone.status_code == 412
    monitor = get_monitor("api")
    assert monitor is not None and monitor.interval == 60  # neither stale write landed
    assert [e.action for e in audit_page()] == ["updated", "created"]
    assert client.patch("/api/v1/monitors/api", json={"interval": 90},  # a list of tags
                        headers={**AUTH, "If-Match": f'"x", {first.headers["etag"]}'}
                        ).status_code == 200
    assert client.patch("/api/v1/monitors/api", json={"interval": 45},
                        headers=AUTH).status_code == 200  # no If-Match: as before
    fresh = client.get("/api/v1/monitors/api", headers=AUTH).headers["etag"]
    assert client.delete("/api/v1/monitors/api",
                         headers={**AUTH, "If-Match": fresh}).status_code == 204


def test_escalation_settings_take_if_match_too(client: TestClient) -> None:
    path = "/api/v1/alerting/escalation"
    etag = client.get(path, headers=AUTH).headers["etag"]
    changed = client.patch(path, json={"flap_changes": 7}, headers={**AUTH, "If-Match": etag})
    assert changed.status_code == 200
    stale = client.patch(path, json={"flap_changes": 9}, headers={**AUTH, "If-Match": etag})
    assert stale.status_code == 412 and stale.json()["current_etag"] == changed.headers["etag"]
    assert escalation_settings().flap_changes == 7
