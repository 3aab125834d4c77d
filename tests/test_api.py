"""The REST API over a real SQLite file."""

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes

AUTH = {"Authorization": "Bearer s3cret-token"}
API = {"name": "API", "url": "http://127.0.0.1:9/health", "interval": 30, "timeout": 5,
       "public": True}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def test_it_creates_and_lists_a_monitor(client: TestClient) -> None:
    created = client.post("/api/v1/monitors", json=API, headers=AUTH)
    assert created.status_code == 201
    body = created.json()
    shown = ("slug", "name", "url", "public", "interval", "timeout", "state")
    assert {k: body[k] for k in shown} == {
        "slug": "api", "name": "API", "url": API["url"], "public": True, "interval": 30,
        "timeout": 5.0, "state": "pending",
    }
    listed = client.get("/api/v1/monitors", headers=AUTH).json()
    assert [m["slug"] for m in listed] == ["api"]
    assert client.get("/api/v1/monitors/api", headers=AUTH).json()["url"] == API["url"]


def test_writes_without_the_token_are_refused_and_change_nothing(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        answer = client.post("/api/v1/monitors", json=API, headers=headers)
        assert answer.status_code == 401
        assert "Bearer" in answer.json()["error"]
    assert client.get("/api/v1/monitors", headers=AUTH).json() == []


def test_bad_input_is_a_422_with_field_errors_and_saves_nothing(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/monitors", json={**API, "url": "ftp://x", "interval": 5}, headers=AUTH
    )
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"url", "interval"}
    not_json = client.post("/api/v1/monitors", content=b"{nope", headers=AUTH)
    assert not_json.status_code == 422 and "JSON" in not_json.json()["errors"]["body"]
    assert client.get("/api/v1/monitors", headers=AUTH).json() == []


def test_a_duplicate_name_is_refused(client: TestClient) -> None:
    assert client.post("/api/v1/monitors", json=API, headers=AUTH).status_code == 201
    again = client.post("/api/v1/monitors", json=API, headers=AUTH)
    assert again.status_code == 422 and "already exists" in again.json()["errors"]["name"]


def test_anonymous_readers_see_public_monitors_without_urls(client: TestClient) -> None:
    client.post("/api/v1/monitors", json=API, headers=AUTH)
    private = {**API, "name": "Secret DB", "url": "http://db-internal.corp:5432/", "public": False}
    client.post("/api/v1/monitors", json=private, headers=AUTH)
    listed = client.get("/api/v1/monitors")
    assert [m["slug"] for m in listed.json()] == ["api"]
    assert "db-internal" not in listed.text and "127.0.0.1" not in listed.text
    assert client.get("/api/v1/monitors/secret-db").status_code == 404


def test_it_updates_and_deletes(client: TestClient) -> None:
    client.post("/api/v1/monitors", json=API, headers=AUTH)
    patched = client.patch("/api/v1/monitors/api", json={"interval": 120}, headers=AUTH)
    assert patched.status_code == 200 and patched.json()["interval"] == 120
    bad = client.patch("/api/v1/monitors/api", json={"timeout": 500}, headers=AUTH)
    assert bad.status_code == 422 and "timeout" in bad.json()["errors"]
    assert client.get("/api/v1/monitors/api", headers=AUTH).json()["timeout"] == 5.0
    assert client.delete("/api/v1/monitors/api", headers=AUTH).status_code == 204
    assert client.get("/api/v1/monitors/api", headers=AUTH).status_code == 404


def test_healthz_says_whether_the_public_answers_are_built_yet() -> None:
    runtime = Runtime()
    with TestClient(Starlette(routes=build_routes(runtime))) as fresh:
        answer = fresh.get("/healthz")
        assert (answer.status_code, answer.json()["public_answers"]) == (200, "building")
        assert fresh.get("/api/v1/status").status_code == 503  # what "building" means
        runtime.read_model.refresh()
        assert fresh.get("/healthz").json()["public_answers"] == "ok"
        assert fresh.get("/api/v1/status").status_code == 200


def test_healthz_reports_the_database_and_a_missing_engine(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["database"] == "ok"
