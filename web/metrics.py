"""GET /metrics: Prometheus text exposition of every monitor's state, latency and certificate.

Without the API token only public monitors are listed, as on the status page; Prometheus can send
the token (`authorization: {credentials: …}` in its scrape config) to see every monitor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.states import STATES, effective_state, is_serving
from storage.monitors import MonitorView, list_monitors


class MonitorCollector(Collector):
    def __init__(self, monitors: list[MonitorView], engine_tick_age_s: float | None) -> None:
        self._monitors = monitors
        self._engine_tick_age_s = engine_tick_age_s

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("upwatch_monitor_up", "1 when up or degraded, else 0",
                               labels=["monitor"])
        state = GaugeMetricFamily("upwatch_monitor_state", "1 for the monitor's current state",
                                  labels=["monitor", "state"])
        latency = GaugeMetricFamily("upwatch_monitor_latency_seconds",
                                    "latency of the last check", labels=["monitor"])
        checked = GaugeMetricFamily("upwatch_monitor_last_check_timestamp_seconds",
                                    "when the monitor was last checked", labels=["monitor"])
        for monitor in self._monitors:
            current = effective_state(monitor.paused, monitor.state)
            up.add_metric([monitor.slug], 1.0 if is_serving(current) else 0.0)
            for name in STATES:
                state.add_metric([monitor.slug, name], 1.0 if name == current else 0.0)
            if monitor.latency_ms is not None:
                latency.add_metric([monitor.slug], monitor.latency_ms / 1000)
            if monitor.last_check_at is not None:
                checked.add_metric([monitor.slug], monitor.last_check_at.timestamp())
        yield from (up, state, latency, checked)
        if self._engine_tick_age_s is not None:
            yield GaugeMetricFamily("upwatch_engine_tick_age_seconds",
                                    "seconds since the probe engine last ticked",
                                    value=self._engine_tick_age_s)


def metrics_routes(
    is_authorized: Callable[[Request], bool], engine_tick_age: Callable[[], float | None]
) -> list[Route]:
    async def metrics(request: Request) -> Response:
        monitors = await anyio.to_thread.run_sync(list_monitors, not is_authorized(request))
        registry = CollectorRegistry(auto_describe=False)
        registry.register(MonitorCollector(monitors, engine_tick_age()))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics)]
