"""GET /feed.atom and /feed.rss: the feeds readmodel/feeds builds, served from the read model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from readmodel.prepared import PreparedResponse
from web.responses import not_known_yet

if TYPE_CHECKING:
    from readmodel.read_model import ReadModel


def feed_routes(read_model: ReadModel) -> list[Route]:
    def route(kind: str) -> Route:
        async def serve(_request: Request) -> Response | PreparedResponse:
            prepared = read_model.snapshot.feeds.get(kind)
            if prepared is None:
                return not_known_yet()
            return prepared  # answers a matching If-None-Match with 304 itself

        return Route(f"/feed.{kind}", serve)

    return [route("atom"), route("rss")]
