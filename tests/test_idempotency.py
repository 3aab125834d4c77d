"""Idempotency-Key on the API's creates: a create sent again with the same key answers the
first answer and makes nothing twice, even sent twice at once; the same key with another body
is a 422 problem naming the header."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.settings import get_settings
from storage.api_tokens import create_token, list_tokens
from storage.db import get_engine
from storage.idempotency import KEEP, Reserved, prune_idempotency_keys, reserve
from storage.incidents import admin_incidents
from storage.key_source import secret_key
from storage.maintenance_admin import window_details
from storage.monitors import list_monitors
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from web.openapi import openapi_document
from web.openapi_access import IDEMPOTENT_CREATES

AUTH = {"Authorization": "Bearer s3cret-token"}
MONITOR = {"name": "Shop", "url": "http://127.0.0.1:9/"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def _keyed(key: str, headers: dict[str, str] = AUTH) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_repeated_create_answers_the_first_answer_and_makes_one(client: TestClient) -> None:
    first = client.post("/api/v1/monitors", json=MONITOR, headers=_keyed("k-1"))
    assert first.status_code == 201, first.text
    # The same body in another order and spacing is the same request.
    again = client.post("/api/v1/monitors", content='{"url": "http://127.0.0.1:9/",  '
                        '"name": "Shop"}', headers={**_keyed("k-1"),
                                                   "Content-Type": "application/json"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [m.name for m in list_monitors()] == ["Shop"]
    # Without a key, or with another, a second create is refused as a duplicate name.
    assert client.post("/api/v1/monitors", json=MONITOR, headers=AUTH).status_code == 422


def test_the_same_key_with_another_body_is_refused(client: TestClient) -> None:
    assert client.post("/api/v1/monitors", json=MONITOR, headers=_keyed("k-2")).status_code == 201
    other = client.post("/api/v1/monitors", json={**MONITOR, "name": "Other"},
                        headers=_keyed("k-2"))
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]
    # ... and so is the same key on another route.
    elsewhere = client.post("/api/v1/incidents", headers=_keyed("k-2"),
                            json={"title": "Slow", "message": "Looking"})
    assert elsewhere.status_code == 422
    assert [m.name for m in list_monitors()] == ["Shop"] and admin_incidents() == []


def test_keys_are_per_client_and_a_refused_create_frees_its_key(client: TestClient) -> None:
    _, token = create_token("ci", "write", None, actor="admin")
    ci = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/monitors", json=MONITOR, headers=_keyed("k-3")).status_code == 201
    theirs = client.post("/api/v1/monitors", json={**MONITOR, "name": "CI"},
                         headers=_keyed("k-3", ci))
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    refused = client.post("/api/v1/monitors", json={"name": "Bad"}, headers=_keyed("k-4"))
    assert refused.status_code == 422
    fixed = client.post("/api/v1/monitors", json={"name": "Bad"}, headers=_keyed("k-4"))
    assert fixed.status_code == 422 and "Idempotent-Replayed" not in fixed.headers
    bad_key = client.post("/api/v1/monitors", json=MONITOR, headers=_keyed("two words"))
    assert [e["field"] for e in bad_key.json()["errors"]] == ["Idempotency-Key"]


def test_every_create_takes_a_key(client: TestClient) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    window = {"title": "DB", "starts_at": soon.isoformat(),
              "ends_at": (soon + timedelta(hours=1)).isoformat()}
    incident = {"title": "Slow", "message": "Looking"}
    creates = [("/api/v1/maintenance", window), ("/api/v1/incidents", incident),
               ("/api/v1/users", {"username": "ann", "role": "viewer",
                                  "password": "a long passphrase"}),
               ("/api/v1/tokens", {"name": "grafana", "scope": "read"})]
    for number, (path, body) in enumerate(creates):
        first = client.post(path, json=body, headers=_keyed(f"c-{number}"))
        again = client.post(path, json=body, headers=_keyed(f"c-{number}"))
        assert (first.status_code, again.status_code) == (201, 201), (path, again.text)
        assert again.headers["Idempotent-Replayed"] == "true"
    opened = admin_incidents()[0].id
    update = {"status": "identified", "message": "Found it"}
    for _ in range(2):
        posted = client.post(f"/api/v1/incidents/{opened}/updates", json=update,
                             headers=_keyed("u-1"))
        assert posted.status_code == 200
    assert len(window_details()) == 1
    assert [len(i.updates) for i in admin_incidents()] == [2]
    assert [t.name for t in list_tokens()] == ["grafana"]


def test_a_replayed_token_create_does_not_show_the_token_again(client: TestClient) -> None:
    body = {"name": "deploy", "scope": "write"}
    first = client.post("/api/v1/tokens", json=body, headers=_keyed("t-1"))
    again = client.post("/api/v1/tokens", json=body, headers=_keyed("t-1"))
    assert first.json()["token"].startswith("uwt_")
    assert again.json()["token"] is None and again.json()["id"] == first.json()["id"]
    assert first.json()["token"] not in again.text


@pytest.mark.anyio
@pytest.mark.usefixtures("backend")
async def test_two_creates_at_once_with_one_key_make_one() -> None:
    # Two web processes' routes over one database (SQLite, then PostgreSQL).
    apps = [Starlette(routes=build_routes(Runtime())) for _ in range(2)]
    secret_key(get_engine(), get_settings())  # made once before: this is about create keys
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://u")
               for app in apps]
    answers = await asyncio.gather(*(
        clients[n % 2].post("/api/v1/monitors", json=MONITOR, headers=_keyed("same"))
        for n in range(6)))
    for client in clients:
        await client.aclose()
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert [m.name for m in list_monitors()] == ["Shop"]


def test_keys_are_kept_a_day(client: TestClient) -> None:
    client.post("/api/v1/monitors", json=MONITOR, headers=_keyed("old"))
    later = datetime.now(UTC) + KEEP + timedelta(minutes=1)
    assert isinstance(reserve("api-token", "old", "POST /api/v1/monitors", "x", later), Reserved)
    client.post("/api/v1/monitors", json={**MONITOR, "name": "Two"}, headers=_keyed("again"))
    assert prune_idempotency_keys() == 0
    assert prune_idempotency_keys(later) == 1  # "again"; "old" was claimed anew, later


def test_the_document_describes_the_header_on_every_create() -> None:
    paths = openapi_document()["paths"]
    for path in IDEMPOTENT_CREATES:
        create = paths[path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in create["parameters"]], path
        assert "409" in create["responses"]
