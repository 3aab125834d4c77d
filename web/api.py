"""The REST API for monitors. Reads of private monitors and all writes need the API token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.monitor_input import InvalidInput, parse_monitor_input
from storage.monitors import (
    MonitorView,
    create_monitor,
    delete_monitor,
    get_monitor,
    list_monitors,
    update_monitor,
)
from web.responses import field_errors, has_api_token, not_found, run_sync, unauthorized

# What an anonymous caller may see of a public monitor: no URL, no error text.
PUBLIC_FIELDS = ("slug", "name", "kind", "public", "interval", "state", "last_check_at",
                 "latency_ms")


def _shown(monitor: MonitorView, full: bool) -> dict[str, Any]:
    data = monitor.to_api()
    return data if full else {k: data[k] for k in PUBLIC_FIELDS}


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise InvalidInput({"body": "send a JSON object"}) from None
    if not isinstance(body, dict):
        raise InvalidInput({"body": "send a JSON object"})
    return body


def api_routes(on_change: Callable[[], None]) -> list[Route]:
    async def list_or_create(request: Request) -> Response:
        authorized = has_api_token(request)
        if request.method == "GET":
            monitors = await run_sync(list_monitors, not authorized)
            return JSONResponse([_shown(m, authorized) for m in monitors])
        if not authorized:
            return unauthorized()
        try:
            spec = parse_monitor_input(await _json_body(request))
            monitor = await run_sync(create_monitor, spec)
        except InvalidInput as exc:
            return field_errors(exc.errors)
        on_change()
        return JSONResponse(monitor.to_api(), status_code=201)

    async def one(request: Request) -> Response:
        slug = request.path_params["slug"]
        authorized = has_api_token(request)
        if request.method == "GET":
            monitor = await run_sync(get_monitor, slug)
            if monitor is None or not (authorized or monitor.public):
                return not_found()
            return JSONResponse(_shown(monitor, authorized))
        if not authorized:
            return unauthorized()
        if request.method == "DELETE":
            deleted = await run_sync(delete_monitor, slug)
            on_change()
            return Response(status_code=204) if deleted else not_found()
        try:
            changes = await _json_body(request)
            monitor = await run_sync(update_monitor, slug, changes)
        except InvalidInput as exc:
            return field_errors(exc.errors)
        if monitor is None:
            return not_found()
        on_change()
        return JSONResponse(monitor.to_api())

    return [
        Route("/api/v1/monitors", list_or_create, methods=["GET", "POST"]),
        Route("/api/v1/monitors/{slug:str}", one, methods=["GET", "PATCH", "DELETE"]),
    ]
