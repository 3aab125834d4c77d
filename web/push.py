"""The heartbeat receiver: `GET|POST /api/v1/push/{token}?status=up|down&msg=...`.

The token is the secret: anyone holding it may report, nobody else learns whether a token
exists beyond the 404 an unknown one gets (and nothing is recorded for it).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.push import beat_result
from domain.result import utcnow
from storage.monitors import record_heartbeat
from web.responses import not_found

STATUSES = ("up", "down")


def push_routes(on_recorded: Callable[[], None]) -> list[Route]:
    async def beat(request: Request) -> Response:
        status = request.query_params.get("status", "up").strip().lower() or "up"
        if status not in STATUSES:
            return JSONResponse(
                {"errors": {"status": "send status=up or status=down"}}, status_code=422
            )
        result = beat_result(status, request.query_params.get("msg"), utcnow())
        known = await anyio.to_thread.run_sync(
            record_heartbeat, request.path_params["token"], result
        )
        if not known:
            return not_found("unknown push token")
        on_recorded()
        return JSONResponse({"ok": True, "status": status})

    return [Route("/api/v1/push/{token:str}", beat, methods=["GET", "POST"])]
