"""A small public status to test against: monitors, results, incidents, and the public routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from readmodel.read_model import ReadModel
from storage.monitors import MonitorView, create_monitor
from storage.results import record_result
from web.badges import badge_routes
from web.feeds import feed_routes
from web.status_api import status_api_routes


def monitor(name: str, url: str = "https://svc.example/", public: bool = True,
            state: str | None = "up", reason: str | None = None,
            latency_ms: float = 80.0) -> MonitorView:
    created = create_monitor(parse_monitor_input({"name": name, "url": url, "public": public}))
    if state is not None:
        record_result(created.id, ProbeResult(state, latency_ms=latency_ms, reason=reason))
    return created


def public_client() -> tuple[TestClient, ReadModel]:
    """The public routes as the server mounts them, over a freshly built read model."""
    read_model = ReadModel()
    read_model.refresh()
    app = Starlette(routes=[*badge_routes(read_model), *status_api_routes(read_model),
                            *feed_routes(read_model)])
    return TestClient(app), read_model
