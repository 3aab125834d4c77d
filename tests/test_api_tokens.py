"""Named API tokens: made on the dashboard (shown once, kept hashed), scoped read < write <
admin (403 beyond the scope), expiring, revocable, their use recorded; UPWATCH_API_TOKEN stays
the bootstrap admin token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from domain.limits import InvalidInput
from domain.tokens import allows, token_hash
from storage.api_tokens import TOKENS, create_token, grant_for, list_tokens, revoke_token
from storage.audit import audit_page
from storage.db import get_engine
from storage.models import utcnow
from tests.pages_support import logged_in
from tests.server_process import wait_until

URL = "http://127.0.0.1:9/"
BODY = {"name": "API", "url": URL}


@pytest.mark.parametrize(("scope", "needed", "allowed"), [
    ("read", "read", True), ("read", "write", False), ("read", "admin", False),
    ("write", "read", True), ("write", "write", True), ("write", "admin", False),
    ("admin", "admin", True), ("bogus", "read", False),
])
def test_scopes_nest(scope, needed, allowed) -> None:
    assert allows(scope, needed) is allowed


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_each_scope_reaches_what_it_allows_and_gets_403_beyond(client: TestClient) -> None:
    _, reader = create_token("grafana", "read", None, actor="admin")
    _, writer = create_token("ci", "write", 30, actor="admin")
    _, admin = create_token("ops", "admin", None, actor="admin")
    assert client.post("/api/v1/monitors", json=BODY, headers=_bearer(reader)).status_code == 403
    created = client.post("/api/v1/monitors", json=BODY, headers=_bearer(writer))
    assert created.status_code == 201
    assert client.get("/api/v1/monitors/api", headers=_bearer(reader)).json()["url"] == URL
    assert client.get("/api/v1/audit", headers=_bearer(writer)).status_code == 403
    assert client.get("/api/v1/audit", headers=_bearer(admin)).status_code == 200
    assert client.get("/api/v1/monitors/api", headers=_bearer("uwt_not-a-token")).status_code \
        == 404  # private: unknown tokens see only public monitors
    assert client.post("/api/v1/monitors", json=BODY,
                       headers=_bearer("uwt_not-a-token")).status_code == 401
    # The write is recorded as the token's.
    assert [e.actor for e in audit_page() if e.subject_kind == "monitor"] == ["token:ci"]


def test_a_token_is_kept_only_as_its_hash_and_a_revoked_or_expired_one_stops(
        client: TestClient) -> None:
    view, token = create_token("ci", "write", None, actor="admin")
    with get_engine().connect() as connection:
        stored = connection.execute(select(TOKENS)).mappings().one()
    assert token not in repr(dict(stored)) and stored["token_hash"] == token_hash(token)
    assert view.prefix == token[:12] and len(token) > 40
    assert grant_for(token) is not None
    assert grant_for(token, now=utcnow() + timedelta(days=1)) is not None  # no expiry
    revoke_token(view.id, actor="admin")
    assert grant_for(token) is None
    assert client.post("/api/v1/monitors", json=BODY, headers=_bearer(token)).status_code == 401
    _, short = create_token("temp", "read", 1, actor="admin")
    assert grant_for(short) is not None
    assert grant_for(short, now=utcnow() + timedelta(days=2)) is None  # expired
    assert [(e.action, e.subject) for e in audit_page()][:3] == [
        ("created", "temp"), ("revoked", "ci"), ("created", "ci")]


def test_bad_token_input_is_refused_and_nothing_is_made() -> None:
    with pytest.raises(InvalidInput) as refused:
        create_token(" ", "root", 0, actor="admin")
    assert set(refused.value.errors) == {"name", "scope", "expires_in_days"}
    create_token("ci", "read", None, actor="admin")
    with pytest.raises(InvalidInput, match="has that name"):
        create_token("ci", "write", None, actor="admin")
    assert [t.name for t in list_tokens()] == ["ci"]


def test_use_is_recorded(client: TestClient) -> None:
    view, token = create_token("grafana", "read", None, actor="admin")
    assert client.get("/api/v1/monitors", headers=_bearer(token)).status_code == 200
    used = wait_until(lambda: list_tokens()[0].last_used_at, 10, "the token's last use")
    assert used >= view.created_at


def test_the_bootstrap_token_is_an_admin(client: TestClient) -> None:
    assert client.get("/api/v1/audit", headers=_bearer("s3cret-token")).status_code == 200


def test_the_tokens_page_makes_one_shown_once_and_revokes_it() -> None:
    at = logged_in("tokens.py")
    at.text_input[0].input("grafana")
    at.selectbox[0].select("read")
    next(b for b in at.button if b.label == "Make token").click()
    at.run()
    (shown,) = [c.value for c in at.code]
    assert shown.startswith("uwt_") and grant_for(shown) is not None
    assert any("not shown again" in s.value for s in at.success)
    next(b for b in at.button if b.label == "Revoke").click()
    at.run()
    assert grant_for(shown) is None and not at.code  # gone from the page too
    assert any("revoked" in t.value for t in at.text)
