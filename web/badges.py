"""Badge routes, served from the in-memory read model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.badge_svg import STYLES, etag_for, render_badge_svg
from web.badge_values import status_badge
from web.read_model import ReadModel
from web.responses import SVGResponse, not_found


def _svg(request: Request, label: str, message: str, color: str) -> Response:
    style = request.query_params.get("style", "flat")
    if style not in STYLES:
        return not_found(f"unknown style; use one of {', '.join(STYLES)}")
    svg = render_badge_svg(request.query_params.get("label", label), message, color, style)
    etag = etag_for(svg)
    headers = {"Cache-Control": "public, max-age=60", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return SVGResponse(svg, headers=headers)


def badge_routes(read_model: ReadModel) -> list[Route]:
    async def status_svg(request: Request) -> Response:
        component = read_model.snapshot.components.get(request.path_params["slug"])
        if component is None:  # unknown and private look the same: nothing to confirm
            return not_found()
        message, color = status_badge(component.state)
        return _svg(request, component.name, message, color)

    return [Route("/badge/{slug:str}/status.svg", status_svg)]
