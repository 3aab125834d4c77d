"""GET /metrics: Prometheus text exposition, from the read model.

The monitors' figures and the counters are rendered once per snapshot (readmodel/metrics_view,
readmodel/metrics_exposition); a request picks one of two prepared bodies and adds the figures
only this process knows now: how late the probe engine is, the engine's last tick (when it runs
here) and the build. Without the API token only public monitors are listed, as on the status
page, and no notification counters; Prometheus sends the token with
`authorization: {credentials: …}` in its scrape config.

Engine lateness is a gauge, not a histogram: the engine's per-check lateness lives in the
engine's process (or a worker on another host) and is not recorded in the database, so a
histogram here could not be honest. The gauge is derived from what is recorded: how far past
its due time (domain/schedule_lag) the most overdue monitor's next check is.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from readmodel.metrics_exposition import MetricsBodies, metrics_bodies
from readmodel.metrics_view import read_metrics
from readmodel.read_model import running_read_model

if TYPE_CHECKING:
    from readmodel.read_model import ReadModel


def _version() -> str:
    try:
        return version("upwatch")
    except PackageNotFoundError:
        return "unknown"


VERSION = _version()


class LiveCollector(Collector):
    def __init__(self, next_due: float | None, engine_tick_age_s: float | None,
                 now: float) -> None:
        self._next_due = next_due
        self._engine_tick_age_s = engine_tick_age_s
        self._now = now

    def collect(self) -> Iterator[Metric]:
        late = 0.0 if self._next_due is None else max(0.0, self._now - self._next_due)
        yield GaugeMetricFamily(
            "upwatch_engine_lateness_seconds",
            "how far past its due time the most overdue scheduled check is", value=late)
        if self._engine_tick_age_s is not None:
            yield GaugeMetricFamily("upwatch_engine_tick_age_seconds",
                                    "seconds since the probe engine last ticked",
                                    value=self._engine_tick_age_s)
        info = GaugeMetricFamily("upwatch_build_info", "the running Upwatch, always 1",
                                 labels=["version", "python_version"])
        info.add_metric([VERSION, platform.python_version()], 1.0)
        yield info


def live_exposition(next_due: float | None, engine_tick_age_s: float | None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LiveCollector(next_due, engine_tick_age_s, time.time()))
    return generate_latest(registry)


def _read_now() -> MetricsBodies:
    """For a process that keeps no read model fresh: the same bodies, read now."""
    return metrics_bodies(read_metrics())


def metrics_routes(
    is_authorized: Callable[[Request], bool], engine_tick_age: Callable[[], float | None],
    read_model: ReadModel | None = None,
) -> list[Route]:
    """`read_model` is the one this process serves from; by default the running one."""

    async def metrics(request: Request) -> Response:
        model = read_model or running_read_model()
        bodies = None if model is None else model.snapshot.metrics
        if bodies is None:  # no snapshot yet
            bodies = await anyio.to_thread.run_sync(_read_now)
        body = bodies.everyone if is_authorized(request) else bodies.public
        live = live_exposition(bodies.next_due, engine_tick_age())
        return Response(body + live, media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})

    return [Route("/metrics", metrics)]
