"""Secrets shown masked: header values whose names look secret, like the secret option fields,
and a masked value sent back keeps what is stored."""

from __future__ import annotations

import pytest

from domain.monitor_input import SECRET_MASK, is_secret_header, masked_options
from storage.monitors import get_monitor
from tests.input_support import AUTH, GOOD, api_client


@pytest.mark.parametrize(("name", "secret"), [
    ("Authorization", True), ("X-Api-Key", True), ("api_key", True), ("X-Auth-Token", True),
    ("Cookie", True), ("X-Client-Secret", True), ("X-Signature", True), ("Proxy-Password", True),
    ("Accept", False), ("User-Agent", False), ("X-Request-Id", False), ("Keyboard", False),
    ("Content-Type", False),
])
def test_header_names_that_carry_credentials(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


def test_masked_options_hide_secret_header_values_and_keep_the_others() -> None:
    options = {"headers": {"X-Api-Key": "k-123", "Accept": "application/json"},
               "basic_auth_password": "pw", "keyword": "ok"}
    shown = masked_options(options, "http")
    assert shown["headers"] == {"X-Api-Key": SECRET_MASK, "Accept": "application/json"}
    assert shown["basic_auth_password"] == SECRET_MASK
    assert shown["keyword"] == "ok"
    assert options["headers"]["X-Api-Key"] == "k-123"  # the stored options are not touched


def test_the_api_never_answers_a_secret_header_and_a_masked_one_sent_back_is_kept() -> None:
    body = {**GOOD, "options": {"headers": {"X-Api-Key": "k-123", "Accept": "text/plain"}}}
    with api_client() as client:
        created = client.post("/api/v1/monitors", json=body, headers=AUTH)
        assert created.status_code == 201, created.text
        assert "k-123" not in created.text
        slug = created.json()["slug"]
        shown = client.get(f"/api/v1/monitors/{slug}", headers=AUTH).json()
        assert shown["options"]["headers"] == {"X-Api-Key": SECRET_MASK, "Accept": "text/plain"}
        # A client that edits what it was shown sends the mask back with its change.
        changed = {"headers": {**shown["options"]["headers"], "Accept": "application/json"}}
        patched = client.patch(f"/api/v1/monitors/{slug}", json={"options": changed},
                               headers=AUTH)
        assert patched.status_code == 200, patched.text
        assert "k-123" not in patched.text
    stored = get_monitor(slug)
    assert stored is not None
    assert stored.options["headers"] == {"X-Api-Key": "k-123", "Accept": "application/json"}


def test_a_new_value_replaces_the_stored_secret_header() -> None:
    body = {**GOOD, "options": {"headers": {"X-Api-Key": "old"}}}
    with api_client() as client:
        slug = client.post("/api/v1/monitors", json=body, headers=AUTH).json()["slug"]
        client.patch(f"/api/v1/monitors/{slug}", headers=AUTH,
                     json={"options": {"headers": {"X-Api-Key": "new"}}})
    stored = get_monitor(slug)
    assert stored is not None
    assert stored.options["headers"] == {"X-Api-Key": "new"}


@pytest.mark.parametrize(("stored", "published"), [
    ("http://user:secret@127.0.0.1:8080/health", "http://127.0.0.1:8080/health"),
    ("https://token@example.test/", "https://example.test/"),
    ("https://a:b@c@example.test/x?y=1", "https://example.test/x?y=1"),
    ("http://127.0.0.1/path@here", "http://127.0.0.1/path@here"),
    ("tcp-host:5432", "tcp-host:5432"),
])
def test_a_published_url_never_carries_credentials(stored: str, published: str) -> None:
    from domain.text import without_credentials

    assert without_credentials(stored) == published


def test_an_old_row_with_credentials_in_its_url_is_published_without_them() -> None:
    from sqlalchemy import update

    from storage.db import get_engine
    from storage.models import Monitor
    from storage.status import public_status
    from storage.tables import table_of

    with api_client() as client:
        created = client.post("/api/v1/monitors", headers=AUTH,
                              json={**GOOD, "public": True})
        assert created.status_code == 201, created.text
    monitors = table_of(Monitor)
    # As a database written before credentials in URLs were refused holds it.
    with get_engine().begin() as connection:
        connection.execute(update(monitors).values(
            url="http://user:hunter2@127.0.0.1:9/health", show_url=True))
    shown = [c.url for c in public_status().components]
    assert shown == ["http://127.0.0.1:9/health"]
