"""Badge routes, served from the in-memory read model.

    /badge/{slug}/{kind}.svg|.json   kind: status, uptime, latency, cert
    /badge/status.svg|.json          the whole status page

A badge is rendered once per snapshot and set of parameters, then served from memory with its
ETag (web/fast_paths sends a request seen before without coming here). Unknown and private
monitors look the same (404), so a badge never confirms that a slug exists. Query parameters
choose what to show (window, quantile) and how (style, label); none of them can change a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from storage.status import LATENCY_QUANTILES, UPTIME_WINDOWS, PublicComponent
from web.badge_svg import STYLES, etag_for, render_badge_svg
from web.badge_values import (
    BadgeText,
    cert_badge,
    latency_badge,
    overall_badge,
    shields_endpoint_json,
    status_badge,
    uptime_badge,
)
from web.prepared import PreparedResponse
from web.read_model import ReadModel, StatusSnapshot
from web.responses import not_found

KINDS = ("status", "uptime", "latency", "cert")
DEFAULT_WINDOW = "30d"
DEFAULT_QUANTILE = "p95"
MAX_LABEL = 100
CACHE_CONTROL = "public, max-age=60"
MEDIA_TYPES = {"svg": "image/svg+xml", "json": "application/json"}


class BadgeRequestError(Exception):
    """The request asks for something that does not exist: answered with 404."""


# (default label, message, colour) of one badge; raises BadgeRequestError.
Value = tuple[str, str, str]


def _window(params: dict[str, str]) -> str:
    window = params.get("window", DEFAULT_WINDOW)
    if window not in UPTIME_WINDOWS:
        raise BadgeRequestError(f"unknown window; use one of {', '.join(UPTIME_WINDOWS)}")
    return window


def _quantile(params: dict[str, str]) -> str:
    quantile = params.get("q", DEFAULT_QUANTILE)
    if quantile not in LATENCY_QUANTILES:
        raise BadgeRequestError(f"unknown metric; use q={'|'.join(LATENCY_QUANTILES)}")
    return quantile


def component_badge(
    component: PublicComponent, kind: str, window: str, quantile: str
) -> tuple[str, BadgeText]:
    """(default label, (message, colour)) of one monitor's badge."""
    if kind == "status":
        return component.name, status_badge(component.state)
    if kind == "uptime":
        return f"uptime {window}", uptime_badge(component.uptime.get(window))
    if kind == "latency":
        figures = component.latency.get(window, {})
        return f"{quantile} {window}", latency_badge(figures.get(quantile))
    if kind == "cert" and component.has_certificate:
        return "certificate", cert_badge(component.cert_days_left)
    raise BadgeRequestError("not found")


def _options(params: dict[str, str]) -> tuple[str, str | None]:
    style = params.get("style", "flat")
    if style not in STYLES:
        raise BadgeRequestError(f"unknown style; use one of {', '.join(STYLES)}")
    label = params.get("label")
    return style, None if label is None else label[:MAX_LABEL]


def _prepared(ext: str, label: str, message: str, color: str, style: str) -> PreparedResponse:
    if ext == "svg":
        body = render_badge_svg(label, message, color, style).encode()
    else:
        body = json.dumps(shields_endpoint_json(label, message, color)).encode()
    return PreparedResponse(body, MEDIA_TYPES[ext], CACHE_CONTROL, etag_for(body))


def _serve(
    request: Request, snapshot: StatusSnapshot, key: tuple, value: Callable[[], Value], ext: str
) -> Response | PreparedResponse:
    params = dict(request.query_params)
    try:
        style, label = _options(params)
        cache_key = (*key, ext, style, label)

        def render() -> PreparedResponse:
            default_label, message, color = value()
            return _prepared(ext, default_label if label is None else label, message, color, style)

        prepared = snapshot.derived(("badge", *cache_key), render)
    except BadgeRequestError as refused:
        return not_found(str(refused))
    snapshot.remember_answer(request.scope, prepared)
    return prepared


def badge_routes(read_model: ReadModel) -> list[Route]:
    async def monitor_badge(request: Request) -> Response | PreparedResponse:
        kind, ext = request.path_params["kind"], request.path_params["ext"]
        snapshot = read_model.snapshot
        component = snapshot.components.get(request.path_params["slug"])
        if component is None or kind not in KINDS or ext not in MEDIA_TYPES:
            return not_found()  # unknown and private look the same: nothing to confirm
        params = request.query_params
        try:
            window = _window(params) if kind in ("uptime", "latency") else ""
            quantile = _quantile(params) if kind == "latency" else ""
        except BadgeRequestError as refused:
            return not_found(str(refused))

        def value() -> Value:
            label, (message, color) = component_badge(component, kind, window, quantile)
            return label, message, color

        key = (component.slug, kind, window, quantile)
        return _serve(request, snapshot, key, value, ext)

    async def overall_badge_route(request: Request) -> Response | PreparedResponse:
        snapshot = read_model.snapshot
        if request.path_params["ext"] not in MEDIA_TYPES:
            return not_found()
        if snapshot.status is None:
            return not_found("the status is not known yet; try again in a few seconds")

        def value() -> Value:
            message, color = overall_badge(snapshot.overall)
            return "status", message, color

        return _serve(request, snapshot, ("overall",), value, request.path_params["ext"])

    return [
        Route("/badge/status.{ext:str}", overall_badge_route),
        Route("/badge/{slug:str}/{kind:str}.{ext:str}", monitor_badge),
    ]
