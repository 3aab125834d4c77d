"""The REST API for monitors, and for reminders and flap detection. Reads of private monitors
need a token with the read scope, writes the write scope, the settings admin (web/responses);
every write is in the audit log as made by the token ("api-token" for UPWATCH_API_TOKEN,
"token:<name>" for a named one).

A write's body is read up to MAX_REQUEST_BODY_BYTES (beyond is a 413, refused before parsing)
and parsed as strict JSON (no NaN or Infinity, bounded nesting); then it goes through the same
validation as the form and the monitors file.

GET of one monitor, and of the escalation settings, answers an ETag; a PATCH or DELETE sent
with If-Match is done only while that still holds, else a 412 problem (web/etags). A create
sent with an Idempotency-Key is made once however often it is sent (web/idempotency).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config.monitors_file import dump_monitors_file
from config.settings import get_settings
from domain.limits import finite_everywhere
from domain.monitor_input import parse_monitor_input
from storage.alerting_admin import escalation_settings, save_escalation_settings
from storage.monitors import (
    MonitorView,
    create_monitor,
    delete_monitor,
    exported_monitors,
    get_monitor,
    list_monitors,
    update_monitor,
)
from web.etags import (
    etag_of,
    expecting,
    if_match,
    monitor_etag,
)
from web.idempotency import idempotent
from web.monitor_list_answers import ListAnswers
from web.problems import not_found
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited, per_minute
from web.responses import actor_of, refusal, request_grant, run_sync
from web.write_refusals import WRITE_REFUSALS, refused

# What an anonymous caller may see of a public monitor: no URL, no error text.
NO_MONITOR = "no monitor has this slug (or it is private: send a token)"
PUBLIC_FIELDS = ("slug", "name", "kind", "public", "interval", "state", "last_check_at",
                 "latency_ms")


def _shown(monitor: MonitorView, full: bool) -> dict[str, Any]:
    # A row stored before non-finite numbers were refused must not fail every listing
    # (writes are checked to encode before they commit, storage/monitors).
    data: dict[str, Any] = finite_everywhere(monitor.to_api())
    return data if full else {k: data[k] for k in PUBLIC_FIELDS}


def api_routes(on_change: Callable[[], None], limits: TokenBuckets | None = None
               ) -> list[Route]:
    """The monitor and settings routes, each within the client's rate limit (`limits`: the
    budgets shared with the other /api/v1 routes; default: a budget of their own)."""
    buckets = per_minute(get_settings().api_requests_per_minute) if limits is None else limits

    async def listed(full: bool) -> bytes:
        monitors = await run_sync(list_monitors, not full)
        return await run_sync(lambda: JSONResponse([_shown(m, full) for m in monitors]).body)

    answers = ListAnswers(listed)

    def monitors_changed() -> None:
        answers.forget()
        on_change()

    async def list_or_create(request: Request) -> Response:
        grant = await request_grant(request)
        authorized = grant is not None
        if request.method == "GET":
            body, compressed = await answers.bodies(authorized)
            if "gzip" in request.headers.get("accept-encoding", ""):
                return Response(compressed, media_type="application/json", headers={
                    "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
            return Response(body, media_type="application/json",
                            headers={"Vary": "Accept-Encoding"})
        if denied := refusal(grant, "write"):
            return denied
        try:
            spec = parse_monitor_input(await json_body(request))
            monitor = await run_sync(partial(create_monitor, spec, actor=actor_of(grant)))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        monitors_changed()
        return JSONResponse(monitor.to_api(), status_code=201)

    async def one(request: Request) -> Response:
        slug = request.path_params["slug"]
        grant = await request_grant(request)
        authorized = grant is not None
        if request.method == "GET":
            monitor = await run_sync(get_monitor, slug)
            if monitor is None or not (authorized or monitor.public):
                return not_found(NO_MONITOR)
            return JSONResponse(_shown(monitor, authorized),
                                headers={"ETag": monitor_etag(monitor)})
        if denied := refusal(grant, "write"):
            return denied

        expect = expecting(if_match(request), monitor_etag)
        try:
            if request.method == "DELETE":
                deleted = await run_sync(partial(
                    delete_monitor, slug, actor=actor_of(grant), expect=expect))
                monitors_changed()
                return Response(status_code=204) if deleted else not_found(NO_MONITOR)
            changes = await json_body(request)
            monitor = await run_sync(partial(
                update_monitor, slug, changes, actor=actor_of(grant), expect=expect))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        if monitor is None:
            return not_found(NO_MONITOR)
        monitors_changed()
        return JSONResponse(monitor.to_api(), headers={"ETag": monitor_etag(monitor)})

    async def escalation(request: Request) -> Response:
        """Reminders, flap detection, the steps per severity and the digest: GET reads them,
        PATCH changes the fields given (`steps` replaces the steps of the severities it
        names); a step's channels are names, and one no channel has is a 422 naming it."""
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        if request.method == "GET":
            settings = (await run_sync(escalation_settings)).to_api()
            return JSONResponse(settings, headers={"ETag": etag_of(settings)})
        try:
            changes = await json_body(request)
            saved = await run_sync(partial(
                save_escalation_settings, changes, actor=actor_of(grant),
                expect=expecting(if_match(request), lambda stored: etag_of(stored.to_api()))))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        return JSONResponse(saved.to_api(), headers={"ETag": etag_of(saved.to_api())})

    async def export(request: Request) -> Response:
        """Every monitor as a monitors file (secrets masked): configuration as code."""
        if denied := refusal(await request_grant(request), "read"):
            return denied
        text = dump_monitors_file(await run_sync(exported_monitors))
        return Response(text, media_type="application/yaml",
                        headers={"Content-Disposition": 'attachment; filename="monitors.yaml"'})

    return [
        Route("/api/v1/monitors.yaml", limited(export, buckets), methods=["GET"]),
        Route("/api/v1/monitors", limited(idempotent(list_or_create), buckets),
              methods=["GET", "POST"]),
        Route("/api/v1/monitors/{slug:str}", limited(one, buckets),
              methods=["GET", "PATCH", "DELETE"]),
        Route("/api/v1/alerting/escalation", limited(escalation, buckets),
              methods=["GET", "PATCH"]),
    ]
