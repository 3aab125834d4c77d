"""GET /api/v1/monitors/{slug}/results: a monitor's results a page at a time, by cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from domain.result import ProbeResult
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import new_monitor, record
from web.rate_limit import TokenBuckets
from web.results_api import results_routes

pytestmark = pytest.mark.usefixtures("backend")

AUTH = {"Authorization": "Bearer s3cret-token"}
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=results_routes(TokenBuckets(1000, 1000))))


def _results(count: int) -> list[ProbeResult]:
    # Two results share each even minute's moment: the cursor must tell them apart by id.
    return [ProbeResult("down" if i % 5 == 0 else "up", START + timedelta(minutes=i // 2 * 2),
                        latency_ms=float(i), reason="HTTP 503" if i % 5 == 0 else None)
            for i in range(count)]


def _pages(client: TestClient, query: str) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        answer = client.get(f"/api/v1/monitors/api/results?{query}"
                            + (f"&cursor={cursor}" if cursor else ""), headers=AUTH)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["results"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_pages_hold_every_result_once_newest_first(client: TestClient) -> None:
    monitor = new_monitor("API")
    record(monitor, _results(23))
    pages = _pages(client, "limit=5")
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    latencies = [row["latency_ms"] for page in pages for row in page]
    assert sorted(latencies) == [float(i) for i in range(23)]  # none twice, none missing
    moments = [row["checked_at"] for page in pages for row in page]
    assert moments == sorted(moments, reverse=True)
    failed = [row for page in _pages(client, "limit=2&failures_only=true") for row in page]
    assert {row["outcome"] for row in failed} == {"down"} and len(failed) == 5


def test_a_result_recorded_meanwhile_does_not_shift_the_next_page(client: TestClient) -> None:
    monitor = new_monitor("API")
    record(monitor, _results(6))
    first = client.get("/api/v1/monitors/api/results?limit=3", headers=AUTH).json()
    record(monitor, [ProbeResult("up", START + timedelta(minutes=30), latency_ms=99.0)])
    second = client.get(f"/api/v1/monitors/api/results?limit=3&cursor={first['next_cursor']}",
                        headers=AUTH).json()
    shown = [row["latency_ms"] for row in first["results"] + second["results"]]
    assert sorted(shown) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and second["next_cursor"] is None


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"),
    ("cursor=nonsense", "cursor"), ("cursor=99999999999999999999-1", "cursor"),
    ("failures_only=yes", "failures_only"), ("from=2026-03-02&to=2026-03-01", "to"),
])
def test_bad_parameters_are_refused_by_name(client: TestClient, query: str, field: str) -> None:
    new_monitor("API")
    answer = client.get(f"/api/v1/monitors/api/results?{query}", headers=AUTH)
    assert answer.status_code == 422
    assert field in {error["field"] for error in answer.json()["errors"]}


def test_a_token_is_needed_and_an_unknown_monitor_is_a_404(client: TestClient) -> None:
    new_monitor("API")
    assert client.get("/api/v1/monitors/api/results").status_code == 401
    assert client.get("/api/v1/monitors/nope/results", headers=AUTH).status_code == 404
