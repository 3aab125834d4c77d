"""Incidents over REST, through the storage functions the dashboard uses (storage/incidents for
opening, updates and resolving; storage/alerting_admin for acknowledging, which also stops
escalation and acknowledges the PagerDuty incident). Each write is one transaction, audited as
the token's.

    GET, POST /api/v1/incidents · GET /api/v1/incidents/{id}
    POST /api/v1/incidents/{id}/updates | /acknowledge | /resolve

Reads need the read scope (the cause a monitor recorded included), writes the write scope. GET
of one incident answers an ETag; an update or a resolve sent with If-Match is posted only while
that still holds, checked in the write's transaction, else a 412 problem (web/etags). An
incident or an update sent with an Idempotency-Key is made once however often it is sent
(web/idempotency).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.limits import InvalidInput, checked_line
from storage.alerting_admin import acknowledge_incident
from storage.incidents import (
    IncidentView,
    admin_incident,
    admin_incidents,
    create_incident,
    post_update,
)
from storage.monitors import get_monitor
from web.etags import etag_of, expecting, if_match
from web.idempotency import idempotent
from web.problems import not_found, problem
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.row_ids import row_path
from web.write_refusals import WRITE_REFUSALS, refused

NO_INCIDENT = "no incident has this id"
RESOLVED_MESSAGE = "This incident has been resolved."


def shown(incident: IncidentView) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {"id": incident.id, "title": incident.title, "status": incident.status,
            "started_at": iso(incident.started_at), "resolved_at": iso(incident.resolved_at),
            "public": incident.public, "monitor_id": incident.monitor_id,
            "monitor_name": incident.monitor_name, "cause": incident.cause,
            "severity": incident.severity, "affected": list(incident.affected),
            "updates": [{"id": u.id, "at": iso(u.at), "status": u.status,
                         "message": u.message} for u in incident.updates]}


def _only(body: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    unknown = {field: "unknown field" for field in body if field not in fields}
    if unknown:
        raise InvalidInput(unknown)


def _text(body: Mapping[str, Any], field: str, default: str = "") -> str:
    value = body.get(field, default)
    if not isinstance(value, str):
        raise InvalidInput({field: "enter text"})
    return value


def _open(body: dict[str, Any], actor: str) -> int:
    """Validate and open an incident in one step (a refused body saves nothing)."""
    _only(body, ("title", "status", "message", "monitor", "public"))
    monitor_id = None
    if (slug := body.get("monitor")) is not None:
        monitor = get_monitor(slug) if isinstance(slug, str) else None
        if monitor is None:
            raise InvalidInput({"monitor": "no monitor has this slug"})
        monitor_id = monitor.id
    public = body.get("public", True)
    if not isinstance(public, bool):
        raise InvalidInput({"public": "choose true or false"})
    return create_incident(_text(body, "title"), _text(body, "status", "investigating"),
                           _text(body, "message"), monitor_id=monitor_id, public=public,
                           actor=actor)


def incident_etag(incident: IncidentView) -> str:
    return etag_of(shown(incident))


Expect = Callable[[IncidentView], None] | None


def _update(incident_id: int, body: dict[str, Any], actor: str, expect: Expect) -> None:
    _only(body, ("status", "message"))
    post_update(incident_id, _text(body, "status"), _text(body, "message"), actor=actor,
                expect=expect)


def _resolve(incident_id: int, body: dict[str, Any], actor: str, expect: Expect) -> None:
    _only(body, ("message",))
    post_update(incident_id, "resolved", _text(body, "message", RESOLVED_MESSAGE) or
                RESOLVED_MESSAGE, actor=actor, expect=expect)


def _acknowledge(incident_id: int, body: dict[str, Any], actor: str, _expect: Expect) -> bool:
    # An acknowledgement is refused once made (409), so If-Match adds nothing to it.
    _only(body, ("by",))
    who = checked_line("by", body.get("by") or actor, 100)
    return acknowledge_incident(incident_id, f"{who} (API)", datetime.now(UTC), actor=actor)


def incident_routes(on_change: Callable[[], None], limits: TokenBuckets) -> list[Route]:
    """`on_change`: what the public status page reads changed (windows, incidents)."""

    async def list_or_open(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "read" if request.method == "GET" else "write"):
            return denied
        if request.method == "GET":
            return JSONResponse([shown(i) for i in await run_sync(admin_incidents)])
        try:
            body = await json_body(request)
            incident_id = await run_sync(_open, body, actor_of(grant))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        on_change()
        return JSONResponse(shown(await run_sync(admin_incident, incident_id)), status_code=201)

    async def one(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "read"):
            return denied
        incident = await run_sync(admin_incident, request.path_params["id"])
        if incident is None:
            return not_found(NO_INCIDENT)
        return JSONResponse(shown(incident), headers={"ETag": incident_etag(incident)})

    def writing(action: Callable[[int, dict[str, Any], str, Expect], Any]
                ) -> Callable[[Request], Awaitable[Response]]:
        async def write(request: Request) -> Response:
            grant = await request_grant(request)
            if denied := refusal(grant, "write"):
                return denied
            incident_id = request.path_params["id"]
            if await run_sync(admin_incident, incident_id) is None:
                return not_found(NO_INCIDENT)
            expect = expecting(if_match(request), incident_etag)
            try:
                body = await json_body(request)
                done = await run_sync(partial(action, incident_id, body, actor_of(grant),
                                              expect))
            except WRITE_REFUSALS as exc:
                return refused(exc)
            if done is False:
                return problem(409, "it is already acknowledged, or resolved: nothing changed")
            on_change()
            incident = await run_sync(admin_incident, incident_id)
            return JSONResponse(shown(incident), headers={"ETag": incident_etag(incident)})

        return write

    base = row_path("/api/v1/incidents")
    return [
        Route("/api/v1/incidents", limited(idempotent(list_or_open), limits),
              methods=["GET", "POST"]),
        Route(base, limited(one, limits), methods=["GET"]),
        Route(f"{base}/updates", limited(idempotent(writing(_update)), limits),
              methods=["POST"]),
        Route(f"{base}/acknowledge", limited(writing(_acknowledge), limits), methods=["POST"]),
        Route(f"{base}/resolve", limited(writing(_resolve), limits), methods=["POST"]),
    ]
