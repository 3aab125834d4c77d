"""The hottest read-only answers (badges, the status JSON) skip Streamlit's own middleware.

Streamlit wraps every request in path-security, signed-session-cookie and gzip middleware. Badges
and the status JSON need none of it: they are small, public, cookie-free answers from memory, and
that stack was most of their cost per request. Middleware given to `st.App` runs before
Streamlit's, so this one hands those paths straight to their own router; everything else passes
through untouched.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

FAST_PREFIXES = ("/badge/", "/api/v1/status")


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.router = Router(routes=routes)  # unknown paths under the prefixes: a plain 404

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(FAST_PREFIXES):
            await self.router(scope, receive, send)
            return
        await self.app(scope, receive, send)
