"""Which channels each monitor pages, over REST (admin scope), read and replaced through the
Alerting page's own functions (storage/alerting_admin.monitor_routes / set_monitor_routes: one
transaction, audited as the token's). Channels are named; a monitor with none pages every
enabled channel.

    GET /api/v1/alerting/routing · GET, PUT /api/v1/alerting/routing/{slug}

GET of one monitor's routing answers an ETag; a PUT sent with If-Match is done only while it
still holds (checked in the write's own transaction), else a 412.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.limits import InvalidInput
from storage.alerting_admin import list_channels, monitor_routes, set_monitor_routes
from storage.monitors import MonitorView, get_monitor, list_monitors
from web.admin_api_models import MonitorRouting, MonitorRoutingShown, parsed
from web.etags import etag_of, expecting, if_match
from web.problems import not_found
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.write_refusals import WRITE_REFUSALS, refused

NO_MONITOR = "no monitor has this slug"


def routing_of(monitor: MonitorView, routes: dict[int, list[int]],
               names: dict[int, str]) -> dict[str, Any]:
    chosen = sorted(names[i] for i in routes.get(monitor.id, []) if i in names)
    return MonitorRoutingShown(monitor=monitor.slug, channels=chosen,
                               every_enabled_channel=not chosen).model_dump()


def _channel_names() -> dict[int, str]:
    return {channel.id: channel.name for channel in list_channels()}


def every_routing() -> list[dict[str, Any]]:
    routes, names = monitor_routes(), _channel_names()
    return [routing_of(monitor, routes, names) for monitor in list_monitors()]


def one_routing(slug: str) -> dict[str, Any] | None:
    monitor = get_monitor(slug)
    if monitor is None:
        return None
    return routing_of(monitor, monitor_routes(), _channel_names())


def routing_etag(shown: dict[str, Any]) -> str:
    return etag_of({"monitor": shown["monitor"], "channels": shown["channels"]})


def channel_ids(body: dict[str, Any]) -> list[int]:
    """The ids of the channels `body` (a MonitorRouting) names; InvalidInput for a name no
    channel has."""
    wanted: MonitorRouting = parsed(MonitorRouting, body)
    ids = {name: channel_id for channel_id, name in _channel_names().items()}
    unknown = [name for name in wanted.channels if name not in ids]
    if unknown:
        raise InvalidInput({"channels": f"no channel is named {unknown[0]!r}: use "
                                        f"{', '.join(sorted(ids)) or 'none (add one first)'}"})
    return sorted({ids[name] for name in wanted.channels})


def replace_routing(slug: str, body: dict[str, Any], actor: str,
                    condition: str | None = None) -> dict[str, Any] | None:
    """Replace the channels of `slug`; with `condition` (an If-Match), only while the routing's
    ETag, checked in the writing transaction, still matches it (else PreconditionFailed)."""
    monitor = get_monitor(slug)
    if monitor is None:
        return None
    ids = channel_ids(body)

    def etag(names: list[str]) -> str:
        return routing_etag({"monitor": slug, "channels": sorted(names)})

    set_monitor_routes(monitor.id, ids, actor=actor, expect=expecting(condition, etag))
    return one_routing(slug)


def routing_routes(limits: TokenBuckets) -> list[Route]:
    async def every(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "admin"):
            return denied
        return JSONResponse(await run_sync(every_routing))

    async def one(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        slug = request.path_params["slug"]
        current = await run_sync(one_routing, slug)
        if current is None:
            return not_found(NO_MONITOR)
        etag = routing_etag(current)
        if request.method == "GET":
            return JSONResponse(current, headers={"ETag": etag})
        try:
            body = await json_body(request)
            saved = await run_sync(replace_routing, slug, body, actor_of(grant),
                                   if_match(request))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        if saved is None:
            return not_found(NO_MONITOR)
        return JSONResponse(saved, headers={"ETag": routing_etag(saved)})

    return [
        Route("/api/v1/alerting/routing", limited(every, limits), methods=["GET"]),
        Route("/api/v1/alerting/routing/{slug:str}", limited(one, limits),
              methods=["GET", "PUT"]),
    ]
