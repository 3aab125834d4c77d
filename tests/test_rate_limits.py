"""Rate limits: every /api/v1 route shares one budget per client (its token, else its address);
past it, 429 with Retry-After and nothing done. Acknowledgement links count per address."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.settings import get_settings
from storage.api_tokens import create_token
from storage.monitors import list_monitors
from web.request_limits import per_minute

BURST = 10  # at 10 a minute (one every 6 s): bursts of max(10, 10 // 10)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("UPWATCH_API_REQUESTS_PER_MINUTE", "10")
    monkeypatch.setenv("UPWATCH_ACK_REQUESTS_PER_MINUTE", "10")
    get_settings.cache_clear()
    return TestClient(Starlette(routes=build_routes(Runtime())))


def test_a_client_past_its_budget_gets_429_and_nothing_is_done(client: TestClient) -> None:
    _, token = create_token("ci", "write", None, actor="admin")
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(BURST - 1):
        assert client.get("/api/v1/monitors", headers=auth).status_code == 200
    assert client.get("/api/v1/audit", headers={"Authorization": "Bearer s3cret-token"}
                      ).status_code == 200  # another token: a budget of its own
    assert client.get("/api/v1/reports/sla.json", headers=auth).status_code == 200  # the last
    refused = client.post("/api/v1/monitors", headers=auth,
                          json={"name": "API", "url": "http://127.0.0.1:9/"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    assert "at most 10 a minute" in refused.json()["detail"]
    assert list_monitors() == []
    # Without a token the address is the client: its own budget too.
    assert client.get("/api/v1/monitors").status_code == 200


def test_acknowledgement_links_are_limited_per_address(client: TestClient) -> None:
    answers = [client.get("/ack", params={"t": "1.2.abc"}).status_code for _ in range(BURST + 1)]
    assert answers[:BURST] == [403] * BURST and answers[BURST] == 429


def test_the_budget_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = per_minute(60)  # one a second, bursts of 10
    buckets._clock = lambda: now[0]
    assert all(buckets.take("a") == 0 for _ in range(10))
    assert buckets.take("a") == 1
    now[0] += 1.0
    assert buckets.take("a") == 0


def test_made_up_tokens_count_against_their_address(client: TestClient) -> None:
    for n in range(BURST):
        made_up = {"Authorization": f"Bearer uwt_made-up-{n}"}
        assert client.get("/api/v1/monitors", headers=made_up).status_code == 200
    assert client.get("/api/v1/monitors").status_code == 429  # the same address
