"""The web process: the HTTP routes beside the Streamlit UI, and the lifespan that starts the
background parts (composition/services) exactly once per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.routing import BaseRoute

from access.passwords import warn_if_plain
from checks.engine import ProbeEngine
from checks.engine_process import ProbeEngineProcess
from composition.services import Services, start_services
from config.logging_setup import configure_logging, log_settings_summary
from config.settings import get_settings
from readmodel.read_model import ReadModel
from ui.alerting_forms import parse_channel_form
from web.ack import ack_routes
from web.api import api_routes
from web.api_docs import docs_routes
from web.badges import badge_routes
from web.channels_api import channel_routes
from web.export_api import export_routes
from web.feeds import feed_routes
from web.health import health_routes
from web.incidents_api import incident_routes
from web.login import login_routes
from web.maintenance_api import maintenance_routes
from web.metrics import metrics_routes
from web.monitor_actions_api import monitor_action_routes
from web.monitor_report_api import monitor_report_routes
from web.openapi import openapi_routes
from web.pauses import keep_pauses_short
from web.problems import api_fallback
from web.push import push_routes
from web.request_limits import per_minute
from web.response_times_api import response_time_routes
from web.responses import has_api_token
from web.results_api import results_routes
from web.routing_api import routing_routes
from web.slack_actions import slack_action_routes
from web.status_api import status_api_routes
from web.tcp_nodelay import enable_tcp_nodelay_on_listeners
from web.tokens_api import token_routes
from web.users_api import user_routes

log = logging.getLogger("upwatch")


@dataclass
class Runtime:
    """The process's long-lived parts, shared by the routes."""

    read_model: ReadModel = field(default_factory=ReadModel)
    engine: ProbeEngine | ProbeEngineProcess | None = None

    def probes_here(self) -> bool:
        return self.engine is not None

    def engine_tick_age(self) -> float | None:
        return None if self.engine is None else self.engine.seconds_since_tick()

    def monitors_changed(self) -> None:
        self.read_model.mark_stale()

    def adopt_engine(self, engine: ProbeEngine | ProbeEngineProcess) -> None:
        self.engine = engine


def fast_routes(runtime: Runtime) -> list[BaseRoute]:
    """Read-only answers from memory, served ahead of Streamlit's middleware (web/fast_paths)."""
    return [*badge_routes(runtime.read_model), *status_api_routes(runtime.read_model)]


def build_routes(runtime: Runtime) -> list[BaseRoute]:
    # One budget per API client across every /api/v1 route (web/request_limits).
    api_limits = per_minute(get_settings().api_requests_per_minute)
    routes: list[BaseRoute] = [
        *health_routes(runtime.read_model, runtime.probes_here, runtime.engine_tick_age),
        *fast_routes(runtime),
        *feed_routes(runtime.read_model),
        *export_routes(api_limits),
        *results_routes(api_limits),
        *response_time_routes(api_limits),
        *api_routes(runtime.monitors_changed, api_limits),
        *maintenance_routes(runtime.monitors_changed, api_limits),
        *incident_routes(runtime.monitors_changed, api_limits),
        *monitor_action_routes(runtime.monitors_changed, api_limits),
        *monitor_report_routes(api_limits),
        *channel_routes(parse_channel_form, api_limits),
        *routing_routes(api_limits),
        *user_routes(api_limits),
        *token_routes(api_limits),
        *openapi_routes(),
        *docs_routes(),
        *push_routes(runtime.monitors_changed),
        *ack_routes(),
        *slack_action_routes(),
        *login_routes(),
        *metrics_routes(has_api_token, runtime.engine_tick_age, read_model=runtime.read_model),
    ]
    # Last: any other /api/v1 request gets a 404 or 405 problem, not Streamlit's page.
    return [*routes, *api_fallback(routes)]


def make_lifespan(
    runtime: Runtime,
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        settings = get_settings()
        configure_logging(settings, unless_configured=True)
        log_settings_summary(settings, "web process")
        warn_if_plain(settings)
        # Keep-alive clients (badges, status JSON) would otherwise wait ~40 ms per request.
        enable_tcp_nodelay_on_listeners()
        services: Services = await anyio.to_thread.run_sync(lambda: start_services(
            settings, probes=settings.probes, engine_in_child=True,
            on_recorded=runtime.read_model.mark_stale, on_engine=runtime.adopt_engine))
        fresh: asyncio.Task[None] | None = None
        try:
            keep_pauses_short()  # start-up is done: see web/pauses
            fresh = asyncio.create_task(runtime.read_model.keep_fresh())
            yield
        finally:
            if fresh is not None:
                fresh.cancel()
                # The read model stops its child process as it is cancelled: let it finish.
                await asyncio.gather(fresh, return_exceptions=True)
            await anyio.to_thread.run_sync(services.stop)

    return lifespan
