"""A direct visit to the public status page gets Streamlit's page shell already told where the
server is.

Streamlit's browser client cannot tell whether `/status` is a page or the base URL the app is
served under, so it first asks `/status/_stcore/health`, gets a 404, waits for its retry timer
and only then connects at `/`: 100-150 ms of a first visit (measured in headless Chromium). The
client reads `window.__streamlit.BACKEND_BASE_URL` before guessing; this serves Streamlit's own
`index.html` (read once) with that one setting added, with the headers Streamlit gives it.

Only the public page: visitors arrive there from links and bookmarks, while the internal pages
are reached from `/`, where the client's first guess is already right.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SHELL_PATHS = frozenset({"/status"})
INDEX_HTML = Path(streamlit.__file__).parent / "static" / "index.html"


# The app is served at the root (a base URL path would put the page at another path).
SERVER_URL_SETTING = "<script>window.__streamlit={BACKEND_BASE_URL:location.origin}</script>"


def shell_with_server_url(index_html: str) -> str:
    """`index_html` with the server's URL set before any of Streamlit's scripts runs."""
    return index_html.replace("<head>", "<head>" + SERVER_URL_SETTING, 1)


@cache
def _shell() -> bytes:
    return shell_with_server_url(INDEX_HTML.read_text(encoding="utf-8")).encode()


class PageShellMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in ("GET", "HEAD")
                or scope["path"] not in SHELL_PATHS):
            await self.app(scope, receive, send)
            return
        # As Streamlit serves index.html: always revalidated, its scripts are cached by hash.
        response = HTMLResponse(_shell(), headers={"Cache-Control": "no-cache"})
        await response(scope, receive, send)
