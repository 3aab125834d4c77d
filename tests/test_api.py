"""The REST API over a real SQLite file."""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from readmodel.read_model import ReadModel
from readmodel.refresh_policy import RefreshPolicy
from storage.db import get_engine
from tests.server_process import wait_until
from tests.status_support import monitor
from web.health import health_routes

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
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "Bearer" in answer.json()["detail"]
    assert client.get("/api/v1/monitors", headers=AUTH).json() == []


def test_bad_input_is_a_422_with_field_errors_and_saves_nothing(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/monitors", json={**API, "url": "ftp://x", "interval": 5}, headers=AUTH
    )
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"url", "interval"}
    not_json = client.post("/api/v1/monitors", content=b"{nope", headers=AUTH)
    assert not_json.status_code == 422
    (body_error,) = not_json.json()["errors"]
    assert body_error["field"] == "body" and "JSON" in body_error["message"]
    assert client.get("/api/v1/monitors", headers=AUTH).json() == []


def test_a_duplicate_name_is_refused(client: TestClient) -> None:
    assert client.post("/api/v1/monitors", json=API, headers=AUTH).status_code == 201
    again = client.post("/api/v1/monitors", json=API, headers=AUTH)
    assert again.status_code == 422
    assert again.json()["errors"] == [{"field": "name",
                                       "message": "a monitor named 'API' already exists"}]


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
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["timeout"]
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


def health_client(read_model: ReadModel, stale_after_s: float) -> TestClient:
    routes = health_routes(read_model, lambda: False, lambda: None, stale_after_s=stale_after_s)
    return TestClient(Starlette(routes=routes))


def test_healthz_is_503_once_the_public_answers_are_stale() -> None:
    read_model = ReadModel()
    client = health_client(read_model, stale_after_s=0.5)
    assert client.get("/healthz").status_code == 200  # building: not judged
    read_model.refresh()
    fresh = client.get("/healthz")
    assert (fresh.status_code, fresh.json()["public_answers"]) == (200, "ok")
    time.sleep(0.7)  # nothing confirmed the snapshot since
    stale = client.get("/healthz")
    assert (stale.status_code, stale.json()["public_answers"]) == (503, "stale")
    assert stale.json()["status"] == "unhealthy" and stale.json()["database"] == "ok"
    assert stale.json()["public_answers_current_s_ago"] >= 0.5
    read_model.refresh()
    assert client.get("/healthz").status_code == 200


@contextmanager
def keeping_fresh(read_model: ReadModel) -> Iterator[None]:
    """The read model's builder process running, as the web process's lifespan runs it."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(read_model.keep_fresh())
    thread = threading.Thread(target=loop.run_until_complete, args=(asyncio.wait([task]),))
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(timeout=30)
        loop.close()


def test_healthz_turns_503_while_the_rebuilds_keep_failing() -> None:
    monitor("Api")
    read_model = ReadModel(RefreshPolicy(max_age_s=0.5, check_every_s=0.05, min_gap_s=0.0,
                                         settle_s=0.02))
    client = health_client(read_model, stale_after_s=2.0)
    with keeping_fresh(read_model):
        wait_until(lambda: client.get("/healthz").json()["public_answers"] == "ok", 60,
                   "the first snapshot")
        time.sleep(2.5)
        assert client.get("/healthz").status_code == 200  # confirmed and rebuilt meanwhile
        with get_engine().begin() as connection:  # what a rebuild reads is gone
            connection.execute(text("DROP TABLE incident_update"))
        wait_until(lambda: client.get("/healthz").status_code == 503, 30, "a 503")
        body = client.get("/healthz").json()
        assert (body["public_answers"], body["database"]) == ("stale", "ok")
