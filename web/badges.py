"""Badge routes, served from the in-memory read model.

    /badge/{slug}/{kind}.svg|.json   kind: status, uptime, latency, cert
    /badge/status.svg|.json          the whole status page

A badge is rendered once per text it shows (RenderedBadges), then served from memory with its
ETag; web/fast_paths sends a request seen before without coming here, also after the snapshot
changed (the recipe kept with the answer makes it again from the new snapshot). Unknown and private
monitors look the same (404), so a badge never confirms that a slug exists. Query parameters
choose what to show (window, quantile) and how (style, label); none of them can change a value.
Only those four are read: an answer is remembered by their values as the route uses them
(BadgeQuery), so other parameters, their order, or a default spelled out share one entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from readmodel.prepared import ANY_ORIGIN, PreparedResponse, etag_for
from readmodel.snapshot import AnswerKey, StatusSnapshot, answer_bytes
from storage.status import LATENCY_QUANTILES, UPTIME_WINDOWS, PublicComponent
from web.badge_svg import STYLES, render_badge_svg
from web.badge_values import (
    BadgeText,
    cert_badge,
    latency_badge,
    overall_badge,
    shields_endpoint_json,
    status_badge,
    uptime_badge,
)
from web.responses import not_found, not_known_yet

if TYPE_CHECKING:
    from readmodel.read_model import ReadModel

KINDS = ("status", "uptime", "latency", "cert")
DEFAULT_WINDOW = "30d"
DEFAULT_QUANTILE = "p95"
MAX_LABEL = 100
CACHE_CONTROL = "public, max-age=60"
MEDIA_TYPES = {"svg": "image/svg+xml", "json": "application/json"}


class BadgeRequestError(Exception):
    """The request asks for something that does not exist: answered with 404."""


class BadgeRequestRefused(Exception):
    """The request is malformed (a label too long to be one): answered with 400."""


# (default label, message, colour) of one badge; raises BadgeRequestError.
Value = tuple[str, str, str]


class BadgeQuery(NamedTuple):
    """What a badge request asks for beyond its path, normalised: defaults filled in, and
    window and quantile left empty for the kinds that show neither."""

    style: str
    label: str | None  # None: the badge's own label
    window: str
    quantile: str


def badge_query(kind: str, params: Mapping[str, str]) -> BadgeQuery:
    """The parameters of a request for a `kind` badge (the overall badge's is "status");
    raises BadgeRequestError or BadgeRequestRefused."""
    style = params.get("style", "flat")
    if style not in STYLES:
        raise BadgeRequestError(f"unknown style; use one of {', '.join(STYLES)}")
    label = params.get("label")
    if label is not None and len(label) > MAX_LABEL:
        raise BadgeRequestRefused(f"the label is too long: at most {MAX_LABEL} characters")
    window = quantile = ""
    if kind in ("uptime", "latency"):
        window = params.get("window", DEFAULT_WINDOW)
        if window not in UPTIME_WINDOWS:
            raise BadgeRequestError(f"unknown window; use one of {', '.join(UPTIME_WINDOWS)}")
    if kind == "latency":
        quantile = params.get("q", DEFAULT_QUANTILE)
        if quantile not in LATENCY_QUANTILES:
            raise BadgeRequestError(f"unknown metric; use q={'|'.join(LATENCY_QUANTILES)}")
    return BadgeQuery(style, label, window, quantile)


PARAMETERS = frozenset({"style", "label", "window", "q"})


def badge_parameters(query_string: bytes) -> dict[str, str]:
    """The parameters a badge reads, decoded as Starlette decodes a query string (the last of
    a repeated one counts); the others are dropped. Both the route and web/fast_paths read a
    request with this, so they cannot disagree about what it asks for."""
    if not query_string:
        return {}
    text = query_string.decode("latin-1")
    if "%" in text or "+" in text:
        pairs: list[tuple[str, str]] = parse_qsl(text, keep_blank_values=True)
    else:  # nothing to decode: the pairs parse_qsl makes, at half its cost (badges are hot)
        pairs = [(name, value) for name, _, value in
                 (pair.partition("=") for pair in text.split("&") if pair)]
    return {name: value for name, value in pairs if name in PARAMETERS}


def badge_answer_key(path: str, query_string: bytes) -> AnswerKey | None:
    """The key a badge's answer to this request is remembered by (see `_serve`), or None when
    the route refuses the request. The kind is read from the path as the routes' patterns read
    it (the last segment up to its last dot)."""
    kind = path.rpartition("/")[2].rpartition(".")[0]
    try:
        query = badge_query(kind, badge_parameters(query_string))
    except (BadgeRequestError, BadgeRequestRefused):
        return None
    return (path, *query)


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


class RenderedBadges:
    """Rendered badges by what they show (format, label, message, colour, style), kept across
    snapshots: most badges read the same after a rebuild, and rendering one costs far more than
    looking it up. Two generations bound the memory whatever labels visitors send: when the
    newer is full (in entries or in bytes) it becomes the older, and what is still asked for
    moves back to the newer."""

    def __init__(self, limit: int = 10_000, limit_bytes: int = 8 * 1024 * 1024) -> None:
        self._limit = limit
        self._limit_bytes = limit_bytes
        self._newer: dict[tuple[str, ...], PreparedResponse] = {}
        self._older: dict[tuple[str, ...], PreparedResponse] = {}
        self._newer_bytes = 0

    def get(self, ext: str, label: str, message: str, color: str,
            style: str) -> PreparedResponse:
        key = (ext, label, message, color, style)
        prepared = self._newer.get(key)
        if prepared is None:
            prepared = self._older.get(key) or _prepared(ext, label, message, color, style)
            if len(self._newer) >= self._limit or self._newer_bytes >= self._limit_bytes:
                self._older, self._newer, self._newer_bytes = self._newer, {}, 0
            self._newer[key] = prepared
            self._newer_bytes += answer_bytes(prepared)
        return prepared


RENDERED = RenderedBadges()


def _prepared(ext: str, label: str, message: str, color: str, style: str) -> PreparedResponse:
    if ext == "svg":
        body = render_badge_svg(label, message, color, style).encode()
    else:
        body = json.dumps(shields_endpoint_json(label, message, color)).encode()
    return PreparedResponse(body, MEDIA_TYPES[ext], CACHE_CONTROL, etag_for(body),
                            extra_headers=ANY_ORIGIN)


def _badge(value: Value | None, ext: str, style: str, label: str | None) -> PreparedResponse | None:
    if value is None:
        return None
    default_label, message, color = value
    return RENDERED.get(ext, default_label if label is None else label, message, color, style)


def _refused(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _serve(
    request: Request, snapshot: StatusSnapshot,
    value: Callable[[StatusSnapshot, BadgeQuery], Value | None], ext: str, kind: str,
) -> Response | PreparedResponse:
    if not snapshot.known:
        return not_known_yet()  # every badge alike: no slug is confirmed or denied
    try:
        query = badge_query(kind, badge_parameters(request.scope["query_string"]))
        prepared = _badge(value(snapshot, query), ext, query.style, query.label)
    except BadgeRequestRefused as malformed:
        return _refused(str(malformed))
    except BadgeRequestError as unknown:
        return not_found(str(unknown))
    if prepared is None:
        return not_found()

    def recipe(later: StatusSnapshot) -> PreparedResponse | None:
        try:
            return _badge(value(later, query), ext, query.style, query.label)
        except BadgeRequestError:
            return None

    snapshot.remember_answer((request.scope["path"], *query), prepared, recipe)
    return prepared


def badge_routes(read_model: ReadModel) -> list[Route]:
    async def monitor_badge(request: Request) -> Response | PreparedResponse:
        slug, kind, ext = (request.path_params[k] for k in ("slug", "kind", "ext"))
        if kind not in KINDS or ext not in MEDIA_TYPES:
            return not_found()

        def value(snapshot: StatusSnapshot, query: BadgeQuery) -> Value | None:
            component = snapshot.components.get(slug)
            if component is None:
                return None  # unknown and private look the same: nothing to confirm
            label, (message, color) = component_badge(
                component, kind, query.window, query.quantile)
            return label, message, color

        return _serve(request, read_model.snapshot, value, ext, kind)

    async def overall_badge_route(request: Request) -> Response | PreparedResponse:
        snapshot = read_model.snapshot
        if request.path_params["ext"] not in MEDIA_TYPES:
            return not_found()
        return _serve(request, snapshot, _overall_value, request.path_params["ext"], "status")

    return [
        Route("/badge/status.{ext:str}", overall_badge_route),
        Route("/badge/{slug:str}/{kind:str}.{ext:str}", monitor_badge),
    ]


def _overall_value(snapshot: StatusSnapshot, _query: BadgeQuery) -> Value:
    message, color = overall_badge(snapshot.overall)
    return "status", message, color
