"""GET /healthz: 200 when the database answers, the probe engine ticked recently and the public
answers are not stale, else 503."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from readmodel.read_model import ReadModel
from storage.db import database_answers

ENGINE_TICK_LIMIT_S = 30.0
# The builder confirms or rebuilds the snapshot every few seconds and rebuilds it at least every
# minute (readmodel/refresh_policy); one not known to be current for two minutes means rebuilds
# keep failing, and the status page, badges and status API show an old status.
PUBLIC_ANSWERS_STALE_LIMIT_S = 120.0


def health_routes(read_model: ReadModel, probes_here: Callable[[], bool],
                  engine_tick_age: Callable[[], float | None],
                  stale_after_s: float = PUBLIC_ANSWERS_STALE_LIMIT_S) -> list[Route]:
    async def healthz(_request: Request) -> JSONResponse:
        db_ok = await anyio.to_thread.run_sync(database_answers)
        body: dict[str, Any] = {"database": "ok" if db_ok else "unreachable"}
        healthy = db_ok
        if not probes_here():
            body["probes"] = "disabled in this process"
        else:
            age = engine_tick_age()
            engine_ok = age is not None and age <= ENGINE_TICK_LIMIT_S
            body["probes"] = "ok" if engine_ok else "stalled"
            body["probes_last_tick_s"] = None if age is None else round(age, 1)
            healthy = healthy and engine_ok
        # The public answers (status page, badges, status API) come from the read model's
        # snapshot. Until the first one is built they answer 503 with Retry-After: "building"
        # is said, not judged (a load balancer can wait for "ok" before sending visitors).
        # A snapshot gone stale is judged: visitors would be shown an old status as current.
        current_s = read_model.seconds_since_current()
        if current_s is None:
            body["public_answers"] = "building"
        else:
            answers_ok = current_s <= stale_after_s
            body["public_answers"] = "ok" if answers_ok else "stale"
            body["public_answers_current_s_ago"] = round(current_s, 1)
            healthy = healthy and answers_ok
        body["status"] = "ok" if healthy else "unhealthy"
        return JSONResponse(body, status_code=200 if healthy else 503)

    return [Route("/healthz", healthz)]
