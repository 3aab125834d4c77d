"""The hottest read-only answers (badges, the status JSON) skip Streamlit's own middleware.

Streamlit wraps every request in path-security, signed-session-cookie and gzip middleware. Badges
and the status JSON need none of it: they are small, public, cookie-free answers from memory, and
that stack was most of their cost per request. Middleware given to `st.App` runs before
Streamlit's, so this one hands those paths straight to their own router; everything else passes
through untouched.

Streamlit's own static files (web/static_assets) are sent from memory here too.

A GET that the current snapshot has already answered is sent again from memory without routing:
no path matching, no response to build. The routes keep those answers with the snapshot
(`StatusSnapshot.remember_answer`) by what they read from the request (the path and the
parameters they know, see `badge_answer_key` and `status_answer_key`), so a new snapshot starts
empty and nothing stale is ever sent, and junk parameters cannot fill the memory.

Answered here, before any route: a method other than GET or HEAD (405: these answers are
read-only; inside Starlette's app the router would raise it where nothing turns it into a 405,
so it was a 500), and a query string longer than any real badge needs (400).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from readmodel.read_model import ReadModel
from readmodel.snapshot import AnswerKey
from web.badges import badge_answer_key
from web.security_headers import SecurityHeadersMiddleware
from web.static_assets import PREFIX as STATIC_PREFIX
from web.static_assets import StaticAssets
from web.status_api import status_answer_key

# Per path prefix, the key its routes remember an answer by.
ANSWER_KEYS: tuple[tuple[str, Callable[[str, bytes], AnswerKey | None]], ...] = (
    ("/badge/", badge_answer_key),
    ("/api/v1/status", status_answer_key),
)
FAST_PREFIXES = tuple(prefix for prefix, _ in ANSWER_KEYS)
ALLOWED_METHODS = ("GET", "HEAD")
# A badge's longest honest query: a 100-character label, each character percent-encoded UTF-8
# (up to 12 bytes), and its style, window and quantile.
MAX_QUERY_BYTES = 2048

NOSNIFF = {"X-Content-Type-Options": "nosniff"}
METHOD_NOT_ALLOWED = PlainTextResponse(
    "Method Not Allowed: these answers are read-only", 405,
    headers={"Allow": ", ".join(ALLOWED_METHODS), **NOSNIFF})
QUERY_TOO_LONG = JSONResponse(
    {"error": f"the query string is too long: at most {MAX_QUERY_BYTES} bytes"}, 400,
    headers=NOSNIFF)


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute], read_model: ReadModel) -> None:
        self.app = app
        # Unknown paths under the prefixes: a plain 404. (Router's own default raises inside a
        # Starlette app, and nothing between here and the server turns that into a 404: 500.)
        # This middleware runs ahead of the security headers' (remembered answers carry theirs
        # built in): what the routes answer gets them here.
        self.router = SecurityHeadersMiddleware(
            Router(routes=routes, default=PlainTextResponse("Not Found", 404)))
        self.read_model = read_model
        self.static = StaticAssets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(STATIC_PREFIX):
            if not (self.static.serves(scope) and await self.static(scope, receive, send)):
                await self.app(scope, receive, send)
            return
        answer_key = _answer_key_for(path)
        if answer_key is None:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in ALLOWED_METHODS:
            await METHOD_NOT_ALLOWED(scope, receive, send)
            return
        query_string: bytes = scope["query_string"]
        if len(query_string) > MAX_QUERY_BYTES:
            await QUERY_TOO_LONG(scope, receive, send)
            return
        if method == "GET":
            key = answer_key(path, query_string)
            answer = None if key is None else self.read_model.snapshot.answer_for(key)
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.router(scope, receive, send)


def _answer_key_for(path: str) -> Callable[[str, bytes], AnswerKey | None] | None:
    """How answers under this path are remembered; None for a path this does not serve."""
    for prefix, answer_key in ANSWER_KEYS:
        if path.startswith(prefix):
            return answer_key
    return None
