"""Everything beside the Streamlit UI: the HTTP routes and the process lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from checks.engine_process import ProbeEngineProcess
from core.monitors_file import InvalidMonitorsFile, load_monitors_file
from core.settings import Settings, get_settings
from notifiers.dispatcher import Dispatcher
from notifiers.registry import sync_env_channels
from storage.db import database_answers, get_engine
from storage.monitors_sync import apply_monitors_file
from storage.retention import prune
from web.ack import ack_routes
from web.api import api_routes
from web.badges import badge_routes
from web.export_api import export_routes
from web.feeds import feed_routes
from web.metrics import metrics_routes
from web.pauses import keep_pauses_short
from web.push import push_routes
from web.read_model import ReadModel
from web.responses import has_api_token
from web.status_api import status_api_routes
from web.tcp_nodelay import enable_tcp_nodelay_on_listeners

log = logging.getLogger("upwatch")

ENGINE_TICK_LIMIT_S = 30.0
PRUNE_EVERY_S = 24 * 3600


@dataclass
class Runtime:
    """The process's long-lived parts, shared by the routes."""

    read_model: ReadModel = field(default_factory=ReadModel)
    engine: ProbeEngineProcess | None = None

    def engine_tick_age(self) -> float | None:
        return None if self.engine is None else self.engine.seconds_since_tick()

    def monitors_changed(self) -> None:
        self.read_model.mark_stale()


def _health_routes(runtime: Runtime) -> list[Route]:
    async def healthz(_request: Request) -> JSONResponse:
        db_ok = await anyio.to_thread.run_sync(database_answers)
        body: dict[str, Any] = {"database": "ok" if db_ok else "unreachable"}
        healthy = db_ok
        if runtime.engine is None:
            body["probes"] = "disabled in this process"
        else:
            age = runtime.engine.seconds_since_tick()
            engine_ok = age is not None and age <= ENGINE_TICK_LIMIT_S
            body["probes"] = "ok" if engine_ok else "stalled"
            body["probes_last_tick_s"] = None if age is None else round(age, 1)
            healthy = healthy and engine_ok
        # Said, not judged: the public answers (status page, badges, status API) come from the
        # read model's snapshot, and until the first one is built they answer 503 with
        # Retry-After; a load balancer can wait for "ok" here before sending visitors.
        model = runtime.read_model
        body["public_answers"] = ("building" if not model.snapshot.known
                                  else "ok" if model.is_fresh() else "stale")
        body["status"] = "ok" if healthy else "unhealthy"
        return JSONResponse(body, status_code=200 if healthy else 503)

    return [Route("/healthz", healthz)]


def fast_routes(runtime: Runtime) -> list[BaseRoute]:
    """Read-only answers from memory, served ahead of Streamlit's middleware (web/fast_paths)."""
    return [*badge_routes(runtime.read_model), *status_api_routes(runtime.read_model)]


def build_routes(runtime: Runtime) -> list[BaseRoute]:
    return [
        *_health_routes(runtime),
        *fast_routes(runtime),
        *feed_routes(runtime.read_model),
        *export_routes(),
        *api_routes(runtime.monitors_changed),
        *push_routes(runtime.monitors_changed),
        *ack_routes(),
        *metrics_routes(has_api_token, runtime.engine_tick_age),
    ]


def _apply_monitors_file(path: str) -> None:
    try:
        applied = apply_monitors_file(load_monitors_file(path))
    except InvalidMonitorsFile as refused:
        log.error("monitors file %s was not applied, nothing changed: %s", path, refused)
        return
    log.info("monitors file %s: %d created, %d updated", path, *applied)


def _register_env_channels(settings: Settings) -> None:
    with get_engine().begin() as connection:
        sync_env_channels(connection, settings)


async def _prune_every_day() -> None:
    """Retention runs where the probes run; pruning goes in small batches, so probes never wait."""
    while True:
        try:
            pruned = await anyio.to_thread.run_sync(prune)
            log.info("retention: pruned %d results and %d rollups", pruned.results, pruned.rollups)
        except Exception:
            log.exception("retention pruning failed; trying again tomorrow")
        await asyncio.sleep(PRUNE_EVERY_S)


def make_lifespan(runtime: Runtime):
    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        settings = get_settings()
        # Keep-alive clients (badges, status JSON) would otherwise wait ~40 ms per request.
        enable_tcp_nodelay_on_listeners()
        await anyio.to_thread.run_sync(get_engine)  # creates the schema before anything reads
        if settings.monitors_file:
            await anyio.to_thread.run_sync(_apply_monitors_file, settings.monitors_file)
        # The dashboard lists the environment's channels even where no dispatcher runs.
        await anyio.to_thread.run_sync(_register_env_channels, settings)
        dispatcher = None
        if settings.probes:
            # Paging runs where events are recorded; web-only processes leave it to the workers.
            dispatcher = Dispatcher(get_engine(), settings)
            await anyio.to_thread.run_sync(dispatcher.start)
            # A process of its own: UI scripts in this one must not delay probes (GIL).
            runtime.engine = ProbeEngineProcess(
                on_recorded=lambda: (runtime.read_model.mark_stale(), dispatcher.wake())
            )
            await anyio.to_thread.run_sync(runtime.engine.start)
            log.info("probe engine started")
        keep_pauses_short()  # start-up is done: see web/pauses
        background = [asyncio.create_task(runtime.read_model.keep_fresh())]
        if settings.probes:
            background.append(asyncio.create_task(_prune_every_day()))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            # The read model stops its child process as it is cancelled: let it finish.
            await asyncio.gather(*background, return_exceptions=True)
            if runtime.engine is not None:
                await anyio.to_thread.run_sync(runtime.engine.stop)
                log.info("probe engine stopped")
            if dispatcher is not None:
                await anyio.to_thread.run_sync(dispatcher.stop)

    return lifespan
