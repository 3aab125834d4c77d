"""The hottest read-only answers (badges, the status JSON) skip Streamlit's own middleware.

Streamlit wraps every request in path-security, signed-session-cookie and gzip middleware. Badges
and the status JSON need none of it: they are small, public, cookie-free answers from memory, and
that stack was most of their cost per request. Middleware given to `st.App` runs before
Streamlit's, so this one hands those paths straight to their own router; everything else passes
through untouched.

Streamlit's own static files (web/static_assets) are sent from memory here too.

A GET that the current snapshot has already answered (same path, same query string) is sent again
from memory without routing: no path matching, no query parsing, no response to build. The
routes keep those answers with the snapshot (`StatusSnapshot.remember_answer`), so a new snapshot
starts empty and nothing stale is ever sent.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from readmodel.read_model import ReadModel
from web.static_assets import PREFIX as STATIC_PREFIX
from web.static_assets import StaticAssets

FAST_PREFIXES = ("/badge/", "/api/v1/status")


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute], read_model: ReadModel) -> None:
        self.app = app
        # Unknown paths under the prefixes: a plain 404. (Router's own default raises inside a
        # Starlette app, and nothing between here and the server turns that into a 404: 500.)
        self.router = Router(routes=routes, default=PlainTextResponse("Not Found", 404))
        self.read_model = read_model
        self.static = StaticAssets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(STATIC_PREFIX):
            if not (self.static.serves(scope) and await self.static(scope, receive, send)):
                await self.app(scope, receive, send)
            return
        if not scope["path"].startswith(FAST_PREFIXES):
            await self.app(scope, receive, send)
            return
        answer = self.read_model.snapshot.answer_for(scope) if scope["method"] == "GET" else None
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.router(scope, receive, send)
