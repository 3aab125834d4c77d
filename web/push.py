"""The heartbeat receiver: `GET|POST /api/v1/push/{token}?status=up|down&msg=...`.

The token is the secret: anyone holding it may report, nobody else learns whether a token
exists beyond the 404 an unknown one gets (and nothing is recorded for it).

A token's holder may not flood: 2,000 alternating up/down beats in 8 s made 1,003 incidents.
Each token gets a few beats per second with a small burst (a job reporting its start and end,
a retry); the rest are answered 429 with Retry-After and record nothing.
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
from web.problems import invalid_input, not_found, problem
from web.rate_limit import TokenBuckets

STATUSES = ("up", "down")
BEATS_PER_S = 2.0
BEAT_BURST = 10


def beat_limits() -> TokenBuckets:
    return TokenBuckets(BEATS_PER_S, BEAT_BURST)


def too_many_beats(wait_s: int) -> Response:
    return problem(429, f"too many beats for this token: at most {BEATS_PER_S:g} a second "
                        f"(bursts of {BEAT_BURST}); nothing was recorded, try again in {wait_s} s",
                   headers={"Retry-After": str(wait_s)})


def push_routes(on_recorded: Callable[[], None],
                limits: TokenBuckets | None = None) -> list[Route]:
    buckets = beat_limits() if limits is None else limits

    async def beat(request: Request) -> Response:
        status = request.query_params.get("status", "up").strip().lower() or "up"
        if status not in STATUSES:
            return invalid_input({"status": "send status=up or status=down"})
        token = request.path_params["token"]
        if wait_s := buckets.take(token):
            return too_many_beats(wait_s)
        result = beat_result(status, request.query_params.get("msg"), utcnow())
        known = await anyio.to_thread.run_sync(record_heartbeat, token, result)
        if not known:
            buckets.forget(token)  # memory only for tokens that exist
            return not_found("unknown push token")
        on_recorded()
        return JSONResponse({"ok": True, "status": status})

    return [Route("/api/v1/push/{token:str}", beat, methods=["GET", "POST"])]
