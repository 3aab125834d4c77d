"""What the monitor page's Manage buttons do, over REST (write scope), through the same
functions: pause and resume (storage/monitors.set_paused), check now (checks/check_now, the
result recorded like the engine's), clone (every setting under a new name, created like any
new monitor). Each is in the audit log as the token's.

    POST /api/v1/monitors/{slug}/pause · /resume · /check · /clone
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checks.check_now import check_and_record
from config.base_path import site_href
from domain.limits import InvalidInput
from domain.monitor_input import parse_monitor_update
from domain.slugs import FALLBACK_SLUG, slugify
from storage.monitors import MonitorView, create_monitor, get_monitor, set_paused
from web.admin_api_models import CheckOutcome, CloneInput, parsed
from web.etags import monitor_etag
from web.idempotency import idempotent
from web.problems import not_found, problem
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.write_refusals import WRITE_REFUSALS, refused

NO_MONITOR = "no monitor has this slug"
PUSH_IS_NOT_CHECKED = ("a push monitor is checked by its heartbeats: send one to "
                       "/api/v1/push/{token}")


def _answer(monitor: MonitorView, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(monitor.to_api(), status_code=status,
                        headers={"ETag": monitor_etag(monitor), **headers})


def clone_monitor(source_slug: str, body: dict[str, Any], actor: str) -> MonitorView | None:
    """A new monitor with every setting of `source_slug` (its stored secrets too: a masked one
    sent back keeps it), `body`'s fields replacing them; validated and audited like any new
    monitor. None: no such source."""
    source = get_monitor(source_slug)
    if source is None:
        return None
    wanted = parsed(CloneInput, body)
    changes = {k: v for k, v in body.items() if k != "slug"}
    spec = parse_monitor_update(source.to_input(), changes)
    made = slugify(spec.name) or FALLBACK_SLUG
    if wanted.slug is not None and wanted.slug != made:
        raise InvalidInput({"slug": f"a slug is made from the name: leave it out, or send "
                                    f"{made!r} (what {spec.name!r} makes)"})
    if wanted.slug is not None and get_monitor(wanted.slug) is not None:
        raise InvalidInput({"slug": f"a monitor has the slug {wanted.slug!r}: choose another "
                                    "name"})
    return create_monitor(spec, actor=actor)


def _checked(monitor: MonitorView) -> dict[str, Any] | None:
    result = check_and_record(monitor)
    if result is None:
        return None
    return CheckOutcome(outcome=result.outcome, checked_at=result.checked_at,
                        latency_ms=result.latency_ms, http_status=result.http_status,
                        reason=result.reason, phases=dict(result.phases)).model_dump(mode="json")


def monitor_action_routes(on_change: Callable[[], None], limits: TokenBuckets) -> list[Route]:
    """`on_change`: what the status page reads changed (a pause, a new result, a new monitor)."""

    async def pause_or_resume(request: Request, paused: bool) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "write"):
            return denied
        monitor = await run_sync(partial(set_paused, request.path_params["slug"], paused,
                                         actor=actor_of(grant)))
        if monitor is None:
            return not_found(NO_MONITOR)
        on_change()
        return _answer(monitor)

    async def pause(request: Request) -> Response:
        return await pause_or_resume(request, True)

    async def resume(request: Request) -> Response:
        return await pause_or_resume(request, False)

    async def check(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "write"):
            return denied
        monitor = await run_sync(get_monitor, request.path_params["slug"])
        if monitor is None:
            return not_found(NO_MONITOR)
        outcome = await run_sync(_checked, monitor)
        if outcome is None:
            return problem(409, PUSH_IS_NOT_CHECKED)
        on_change()
        return JSONResponse(outcome)

    async def clone(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "write"):
            return denied
        try:
            body = await json_body(request)
            copy = await run_sync(clone_monitor, request.path_params["slug"], body,
                                  actor_of(grant))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        if copy is None:
            return not_found(NO_MONITOR)
        on_change()
        return _answer(copy, 201, Location=site_href(f"/api/v1/monitors/{copy.slug}"))

    def route(action: str, endpoint: Callable[[Request], Any]) -> Route:
        return Route(f"/api/v1/monitors/{{slug:str}}/{action}", limited(endpoint, limits),
                     methods=["POST"])

    # A clone is a create: sent again with the same Idempotency-Key, it makes no second copy.
    return [route("pause", pause), route("resume", resume), route("check", check),
            route("clone", idempotent(clone))]
