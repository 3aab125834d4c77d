"""Users and API tokens over REST (admin scope only), audited as the token's; a new token is
shown once; the API's docs page fetches nothing from elsewhere."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.settings import get_settings
from storage.api_tokens import create_token, list_tokens
from storage.audit import audit_page
from storage.users import add_user, list_users, role_of, sign_in
from web.openapi import openapi_document

AUTH = {"Authorization": "Bearer s3cret-token"}
ANN = {"username": "Ann", "role": "viewer", "password": "a long passphrase"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def _bearer(name: str, scope: str) -> dict[str, str]:
    _, token = create_token(name, scope, None, actor="admin")
    return {"Authorization": f"Bearer {token}"}


def _errors(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 422, answer.text
    return {error["field"] for error in answer.json()["errors"]}


def test_users_are_added_changed_and_removed_by_an_admin_token(client: TestClient) -> None:
    boss = _bearer("boss", "admin")
    added = client.post("/api/v1/users", json=ANN, headers=boss)
    assert added.status_code == 201, added.text
    assert added.json()["username"] == "ann" and "passphrase" not in added.text
    listed = client.get("/api/v1/users", headers=boss).json()
    assert [(u["username"], u["role"]) for u in listed] == [("admin", "admin"), ("ann", "viewer")]
    changed = client.patch("/api/v1/users/ann", headers=boss,
                           json={"role": "editor", "password": "another passphrase"})
    assert changed.json()["role"] == "editor" and role_of("ann") == "editor"
    assert sign_in("ann", "another passphrase") == "ann"
    assert client.delete("/api/v1/users/ann", headers=boss).status_code == 204
    assert client.get("/api/v1/users/ann", headers=boss).status_code == 404
    assert client.delete("/api/v1/users/nobody", headers=boss).status_code == 404
    assert [(e.actor, e.action) for e in audit_page() if e.subject_kind == "user"] == [
        ("token:boss", "deleted"), ("token:boss", "password changed"),
        ("token:boss", "updated"), ("token:boss", "created")]
    assert not any("passphrase" in str(e.to_api()) for e in audit_page())


def test_bad_user_input_names_each_field_and_changes_nothing(client: TestClient) -> None:
    assert _errors(client.post("/api/v1/users", headers=AUTH, json={
        "username": "no spaces", "role": "owner", "password": "short"})) == {
            "username", "role", "password"}
    assert _errors(client.post("/api/v1/users", headers=AUTH,
                               json={**ANN, "email": "x"})) == {"email"}
    client.post("/api/v1/users", headers=AUTH, json=ANN)
    assert _errors(client.patch("/api/v1/users/ann", headers=AUTH, json={
        "role": "editor", "password": "short"})) == {"password"}
    assert _errors(client.patch("/api/v1/users/ann", headers=AUTH, json={})) == {"body"}
    assert role_of("ann") == "viewer"  # and the password, checked with it, was not written


def test_the_last_admin_stays(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPWATCH_ADMIN_PASSWORD")
    get_settings.cache_clear()
    add_user("root", "admin", "a long passphrase", actor="cli")
    assert _errors(client.delete("/api/v1/users/root", headers=AUTH)) == {"username"}
    assert _errors(client.patch("/api/v1/users/root", headers=AUTH,
                                json={"role": "viewer"})) == {"role"}
    assert [(u.username, u.role) for u in list_users()] == [("root", "admin")]


def test_only_admin_tokens_manage_users_and_tokens(client: TestClient) -> None:
    for scope in ("read", "write"):
        headers = _bearer(scope, scope)
        for method, path in (("GET", "/api/v1/users"), ("POST", "/api/v1/users"),
                             ("PATCH", "/api/v1/users/admin"), ("GET", "/api/v1/tokens"),
                             ("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/1")):
            answer = client.request(method, path, headers=headers, json={})
            assert answer.status_code == 403, (scope, method, path)
    assert client.get("/api/v1/tokens").status_code == 401
    assert [u.username for u in list_users()] == ["admin"]
    assert [t.name for t in list_tokens()] == ["read", "write"]


def test_a_token_is_shown_once_works_and_is_revoked(client: TestClient) -> None:
    made = client.post("/api/v1/tokens", headers=AUTH,
                       json={"name": "grafana", "scope": "read", "expires_in_days": 30})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    secret = made.json()["token"]
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    reader = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/maintenance", headers=reader).status_code == 200
    listed = client.get("/api/v1/tokens", headers=AUTH)
    assert secret not in listed.text
    (shown,) = listed.json()
    assert (shown["name"], shown["scope"], shown["active"]) == ("grafana", "read", True)
    assert secret.startswith(shown["prefix"]) and len(shown["prefix"]) < len(secret)
    for _ in range(50):  # last use is written off the request's thread
        if list_tokens()[0].last_used_at is not None:
            break
        time.sleep(0.05)
    assert client.get("/api/v1/tokens", headers=AUTH).json()[0]["last_used_at"] is not None
    path = f"/api/v1/tokens/{shown['id']}"
    assert client.delete(path, headers=AUTH).status_code == 204
    assert client.get("/api/v1/maintenance", headers=reader).status_code == 401
    assert client.delete(path, headers=AUTH).status_code == 404
    assert [(e.actor, e.action) for e in audit_page() if e.subject_kind == "token"] == [
        ("api-token", "revoked"), ("api-token", "created")]


def test_bad_token_input_names_each_field(client: TestClient) -> None:
    assert _errors(client.post("/api/v1/tokens", headers=AUTH, json={
        "name": "", "scope": "root", "expires_in_days": 0})) == {
            "name", "scope", "expires_in_days"}
    assert _errors(client.post("/api/v1/tokens", headers=AUTH, json={
        "name": "x", "scope": "read", "expires_in_days": "soon", "owner": 1})) == {
            "expires_in_days", "owner"}
    assert list_tokens() == []


def test_the_docs_page_describes_every_operation_and_fetches_nothing(client: TestClient
                                                                      ) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html and "src=" not in html and "@import" not in html
    assert set(re.findall(r'href="([^"]*)"', html)) - {"openapi.json"} <= {
        link for link in re.findall(r'href="(#[^"]*)"', html)}
    for anchor in re.findall(r'href="#([^"]*)"', html):
        assert f'id="{anchor}"' in html
    for path, item in openapi_document()["paths"].items():
        for method in item.keys() - {"parameters"}:
            assert f'<span class="method {method}">{method}</span> <code>{path}</code>' in html
