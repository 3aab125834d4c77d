"""Hostile heartbeats: whatever a token holder or a stranger sends, no 500, and a refused beat
records nothing; a recorded one carries only clean text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from domain.push import beat_result
from tests.input_support import AUTH, api_client, database_rows
from web.push import push_routes
from web.rate_limit import TokenBuckets

QUERY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@pytest.fixture
def token() -> str:
    with api_client() as client:
        created = client.post("/api/v1/monitors", headers=AUTH, json={
            "name": "Nightly job", "kind": "push", "interval": 3600, "timeout": 5})
        assert created.status_code == 201, created.text
        return str(created.json()["push_token"])


@pytest.fixture
def push_client() -> Iterator[TestClient]:
    # A generous bucket: this fuzzes the inputs, the rate limit has its own tests.
    routes = push_routes(lambda: None, limits=TokenBuckets(1_000_000.0, 1_000_000))
    with TestClient(Starlette(routes=routes), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("message", ["a\x00b", "\x1b[31mred", "line\r\nbreak", "\u202eevil"])
def test_a_beats_message_reaches_the_reason_without_control_characters(message: str) -> None:
    reason = beat_result("down", message, datetime.now(UTC)).reason
    assert reason is not None
    assert not any(ord(c) < 32 or c in "\u202e\x7f" for c in reason)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=QUERY_TEXT, message=QUERY_TEXT, method=st.sampled_from(["GET", "POST"]))
def test_no_beat_is_a_500_and_a_refused_one_records_nothing(
        push_client: TestClient, token: str, status: str, message: str, method: str) -> None:
    before = database_rows()
    answer = push_client.request(method, f"/api/v1/push/{token}",
                                 params={"status": status, "msg": message})
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert database_rows() == before


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200))
def test_an_unknown_or_hostile_token_is_refused_and_records_nothing(
        push_client: TestClient, token: str) -> None:
    before = database_rows()
    answer = push_client.get(f"/api/v1/push/{quote(token, safe='')}", params={"status": "down"})
    assert answer.status_code in (404, 405, 422), answer.text
    assert database_rows() == before
