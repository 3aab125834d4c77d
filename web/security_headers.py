"""Security headers on every answer: nosniff on all of them, and on HTML pages the headers that
keep them out of other sites' frames and keep the page's address out of other sites' logs.

Streamlit's page needs inline styles and scripts, blob workers and a websocket to its own host,
so the Content-Security-Policy restricts only what the app never uses (plugins, a changed base
URL, forms posting elsewhere) and who may frame it: no script-src or style-src, which would
break it. Streamlit's older custom components are same-origin iframes under /component/, so
those pages may be framed by the app itself.

A header the answer already has is left as it is (the /ack page sends its own Referrer-Policy).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.base_path import base_path

NOSNIFF = (b"x-content-type-options", b"nosniff")
PAGE_POLICY = "object-src 'none'; base-uri 'self'; form-action 'self'"
HTML_HEADERS = (
    (b"content-security-policy", f"frame-ancestors 'none'; {PAGE_POLICY}".encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
HTML_HEADER_NAMES = frozenset(name for name, _ in HTML_HEADERS)
COMPONENT_PREFIX = "/component/"
COMPONENT_HTML_HEADERS = (
    (b"content-security-policy", f"frame-ancestors 'self'; {PAGE_POLICY}".encode()),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),
)


def with_security_headers(headers: list[tuple[bytes, bytes]],
                          framed_by_the_app: bool) -> list[tuple[bytes, bytes]]:
    """`headers` with the missing ones added, in a new list; `headers` itself when none is
    missing. The given list is never changed: it may be shared by every answer of a prepared
    response. Runs on every answer, badges too, so it is one pass over the headers."""
    html, sniffing = False, True
    present: set[bytes] = set()
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            html = value[:9].lower() == b"text/html"
        elif lowered == b"x-content-type-options":
            sniffing = False
        elif lowered in HTML_HEADER_NAMES:
            present.add(lowered)
    added = [NOSNIFF] if sniffing else []
    if html:
        page = COMPONENT_HTML_HEADERS if framed_by_the_app else HTML_HEADERS
        added.extend(header for header in page if header[0] not in present)
    return [*headers, *added] if added else headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, base: str | None = None) -> None:
        self.app = app
        # Streamlit's component pages are under the base path (web/base_path leaves its paths
        # as they are).
        self.component_prefix = (base_path() if base is None else base) + COMPONENT_PREFIX

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed_by_the_app = scope["path"].startswith(self.component_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                secured = with_security_headers(headers, framed_by_the_app)
                if secured is not headers:
                    message = {**message, "headers": secured}
            await send(message)

        await self.app(scope, receive, send_with_headers)
