"""Every /api/v1 error is an RFC 9457 problem (application/problem+json): type, title, status,
detail, and for bad input one {"field", "message"} per wrong field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from domain.monitor_input import parse_monitor_input
from storage.api_tokens import create_token
from storage.monitors import create_monitor, list_monitors

AUTH = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def problem_of(answer, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "about:blank" and body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_bad_input_names_each_wrong_field(client: TestClient) -> None:
    body = problem_of(client.post("/api/v1/monitors", headers=AUTH, json={
        "name": "API", "url": "ftp://x", "interval": 5}), 422)
    assert body["title"] == "Unprocessable Entity"
    assert sorted(e["field"] for e in body["errors"]) == ["interval", "url"]
    assert all(e["message"] for e in body["errors"])
    assert list_monitors() == []


def test_refusals_unknowns_and_wrong_methods_are_problems(client: TestClient) -> None:
    unauthorized = client.post("/api/v1/monitors", json={})
    assert "Bearer" in problem_of(unauthorized, 401)["detail"]
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    _, reader = create_token("grafana", "read", None, actor="admin")
    forbidden = client.post("/api/v1/monitors", json={},
                            headers={"Authorization": f"Bearer {reader}"})
    assert "scope is read" in problem_of(forbidden, 403)["detail"]
    assert "slug" in problem_of(client.get("/api/v1/monitors/nope", headers=AUTH), 404)["detail"]
    assert "openapi.json" in problem_of(client.get("/api/v1/nothing-here"), 404)["detail"]
    wrong = client.put("/api/v1/monitors", headers=AUTH, json={})
    assert problem_of(wrong, 405)["title"] == "Method Not Allowed"
    assert wrong.headers["allow"] == "GET, HEAD, POST"


def test_a_body_too_large_is_a_413_problem_naming_the_body(client: TestClient) -> None:
    body = problem_of(client.post("/api/v1/monitors", headers=AUTH,
                                  content=b"x" * (65 * 1024)), 413)
    assert body["errors"][0]["field"] == "body" and "64 KB" in body["errors"][0]["message"]


def test_push_errors_are_problems_and_429_keeps_retry_after(client: TestClient) -> None:
    backup = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    assert "unknown push token" in problem_of(client.get("/api/v1/push/nope"), 404)["detail"]
    bad = problem_of(client.get(f"/api/v1/push/{backup.push_token}?status=maybe"), 422)
    assert bad["errors"] == [{"field": "status", "message": "send status=up or status=down"}]
    answers = [client.get(f"/api/v1/push/{backup.push_token}") for _ in range(12)]
    refused = answers[-1]
    assert "too many beats" in problem_of(refused, 429)["detail"]
    assert int(refused.headers["retry-after"]) >= 1
