"""Maintenance windows over REST, written through the same storage functions as the
maintenance page (storage/maintenance_admin: one transaction each, audited as the token's).

    GET, POST /api/v1/maintenance · GET, PATCH, DELETE /api/v1/maintenance/{id}

Reads need the read scope, writes the write scope; a PATCH changes the fields given and
validates the window as a whole (web/maintenance_input). GET of one window answers an ETag; a
PATCH or DELETE sent with If-Match is done only while that still holds, checked in the write's
transaction, else a 412 problem (web/etags). A create sent with an Idempotency-Key is made once
however often it is sent (web/idempotency).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.maintenance_admin import (
    WindowDetail,
    create_window,
    delete_window,
    update_window,
    window_details,
)
from storage.monitors import get_monitor
from web.etags import etag_of, expecting, if_match
from web.idempotency import idempotent
from web.maintenance_input import parse_window
from web.problems import not_found
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.row_ids import row_path
from web.write_refusals import WRITE_REFUSALS, refused

NO_WINDOW = "no maintenance window has this id"


def _monitor_id(slug: str) -> int | None:
    monitor = get_monitor(slug)
    return None if monitor is None else monitor.id


def _window_etag(window: WindowDetail) -> str:
    return etag_of(window.to_api())


def _one(window_id: int) -> dict[str, Any] | None:
    found = window_details(window_id)
    return found[0].to_api() if found else None


def maintenance_routes(on_change: Callable[[], None], limits: TokenBuckets) -> list[Route]:
    """`on_change`: what the public status page reads changed (windows, incidents)."""

    async def list_or_create(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "read" if request.method == "GET" else "write"):
            return denied
        if request.method == "GET":
            return JSONResponse([w.to_api() for w in await run_sync(window_details)])
        try:
            body = await json_body(request)
            spec = await run_sync(parse_window, body, _monitor_id, datetime.now(UTC))
            window_id = await run_sync(partial(create_window, spec, actor=actor_of(grant)))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        on_change()
        return JSONResponse(await run_sync(_one, window_id), status_code=201)

    async def one(request: Request) -> Response:
        window_id = request.path_params["id"]
        grant = await request_grant(request)
        if denied := refusal(grant, "read" if request.method == "GET" else "write"):
            return denied
        current = await run_sync(_one, window_id)
        if current is None:
            return not_found(NO_WINDOW)
        if request.method == "GET":
            return JSONResponse(current, headers={"ETag": etag_of(current)})
        expect = expecting(if_match(request), _window_etag)
        try:
            if request.method == "DELETE":
                await run_sync(partial(delete_window, window_id, actor=actor_of(grant),
                                       expect=expect))
                on_change()
                return Response(status_code=204)
            changes = await json_body(request)
            merged = {k: v for k, v in current.items() if k != "id"} | changes
            spec = await run_sync(parse_window, merged, _monitor_id, datetime.now(UTC))
            saved = await run_sync(partial(update_window, window_id, spec,
                                           actor=actor_of(grant), expect=expect))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        if not saved:
            return not_found(NO_WINDOW)
        on_change()
        window = await run_sync(_one, window_id)
        return JSONResponse(window, headers={"ETag": etag_of(window)})

    return [
        Route("/api/v1/maintenance", limited(idempotent(list_or_create), limits),
              methods=["GET", "POST"]),
        Route(row_path("/api/v1/maintenance"), limited(one, limits),
              methods=["GET", "PATCH", "DELETE"]),
    ]
