"""Serving under a base path: with `--server.baseUrlPath upwatch`, Upwatch's own answers
(badges, the API, feeds, /healthz, /metrics, sign-in, the page shells) live under /upwatch/,
beside Streamlit's.

Streamlit puts its own routes under the base path itself, but the routes given to `st.App` are
mounted as they are written. Rather than each route and middleware knowing the base, this one,
in front of everything, hands a request under the base that is one of Upwatch's to the rest of
the app with the base taken off its path: the routes, the fast paths and the page shells see
"/badge/api/status.svg" whatever the base. Everything else under the base (Streamlit's
websocket, its static files and pages) passes with its path untouched. Upwatch's paths outside
the base are a 404, as Streamlit's own are there: one address for each answer.

`/upwatch` itself (no slash) is left to Streamlit, which redirects it to `/upwatch/`: the page
shell's relative script addresses need the slash.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from config.base_path import base_path
from web.fast_paths import FAST_PREFIXES
from web.page_shell import SHELL_PATHS
from web.static_assets import is_asset_request

NOT_FOUND = PlainTextResponse("Not Found", 404, headers={"X-Content-Type-Options": "nosniff"})


class BasePathMiddleware:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], base: str | None = None) -> None:
        self.app = app
        self.routes = tuple(routes)
        # Read when the app is built, after Streamlit has read its flags.
        self.base = base_path() if base is None else base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        base = self.base
        if not base or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith(base + "/"):
            if path != base and self._is_upwatchs(scope, path):
                await NOT_FOUND(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        below = path[len(base):]
        if not self._is_upwatchs(scope, below):
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path")
        moved = {**scope, "path": below}
        if isinstance(raw_path, bytes) and raw_path.startswith(base.encode() + b"/"):
            moved["raw_path"] = raw_path[len(base):]
        await self.app(moved, receive, send)

    def _is_upwatchs(self, scope: Scope, path: str) -> bool:
        """Whether `path` (below the base) is one of Upwatch's answers, not Streamlit's."""
        if path in SHELL_PATHS or path.startswith(FAST_PREFIXES):
            return True
        probe = {**scope, "path": path, "root_path": ""}
        if path.startswith("/static/"):
            return is_asset_request(probe)
        # PARTIAL: the path is a route's with another method; the router answers the 405.
        return any(route.matches(probe)[0] is not Match.NONE for route in self.routes)
