"""GET /metrics: Prometheus exposition; private monitors only with the API token."""

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import create_monitor
from storage.results import record_result

AUTH = {"Authorization": "Bearer s3cret-token"}


def samples(text: str) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_it_exposes_state_and_latency_and_hides_private_monitors() -> None:
    public = create_monitor(parse_monitor_input(
        {"name": "Shop", "url": "http://shop.example/", "public": True}))
    private = create_monitor(parse_monitor_input(
        {"name": "Secret DB", "url": "http://db.internal/"}))
    at = datetime.now(UTC) - timedelta(minutes=1)
    record_result(public.id, ProbeResult("up", at, latency_ms=250.0))
    record_result(private.id, ProbeResult("down", at, reason="refused"))
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        anonymous = client.get("/metrics")
        admin = client.get("/metrics", headers=AUTH)
    assert anonymous.status_code == 200
    assert anonymous.headers["content-type"].startswith("text/plain")
    seen = samples(anonymous.text)
    assert seen[("upwatch_monitor_up", (("monitor", "shop"),))] == 1.0
    assert seen[("upwatch_monitor_latency_seconds", (("monitor", "shop"),))] == 0.25
    assert seen[("upwatch_monitor_state", (("monitor", "shop"), ("state", "up")))] == 1.0
    assert "secret-db" not in anonymous.text
    assert samples(admin.text)[("upwatch_monitor_up", (("monitor", "secret-db"),))] == 0.0
