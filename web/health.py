"""GET /healthz: 200 when the database answers and the probe engine ticked recently, else 503."""

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


def health_routes(read_model: ReadModel, probes_here: Callable[[], bool],
                  engine_tick_age: Callable[[], float | None]) -> list[Route]:
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
        # Said, not judged: the public answers (status page, badges, status API) come from the
        # read model's snapshot, and until the first one is built they answer 503 with
        # Retry-After; a load balancer can wait for "ok" here before sending visitors.
        body["public_answers"] = ("building" if not read_model.snapshot.known
                                  else "ok" if read_model.is_fresh() else "stale")
        body["status"] = "ok" if healthy else "unhealthy"
        return JSONResponse(body, status_code=200 if healthy else 503)

    return [Route("/healthz", healthz)]
