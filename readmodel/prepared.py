"""A complete answer built once per snapshot and sent as is: body, encoded headers, ETag.

Badges and the status JSON are the same bytes for every visitor until the read model's snapshot
changes. A Starlette `Response` per request re-encodes the headers and re-measures the body each
time; a `PreparedResponse` does it once. It is an ASGI app, so a route can return it, and
web/fast_paths sends it straight from the snapshot for a request it has seen before.
"""

from __future__ import annotations

import hashlib

from starlette.types import Receive, Scope, Send

# Public answers (badges, the status JSON, the feeds) may be fetched by any other site's page.
ANY_ORIGIN = (("access-control-allow-origin", "*"),)


def etag_for(body: str | bytes) -> str:
    """A strong ETag (quoted, as HTTP wants it) that changes whenever the body does."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


class PreparedResponse:
    __slots__ = ("_etag_bytes", "_headers", "_not_modified_headers", "body", "etag")

    def __init__(self, body: bytes, media_type: str, cache_control: str, etag: str,
                 extra_headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.body = body
        self.etag = etag
        self._etag_bytes = etag.encode("latin-1")
        # nosniff is built in: the fast path sends these ahead of the security-header middleware.
        validators = [(b"cache-control", cache_control.encode("latin-1")),
                      (b"etag", self._etag_bytes), (b"x-content-type-options", b"nosniff")]
        self._not_modified_headers = validators
        self._headers = [(b"content-length", str(len(body)).encode("latin-1")),
                         (b"content-type", media_type.encode("latin-1")), *validators,
                         *((name.encode("latin-1"), value.encode("latin-1"))
                           for name, value in extra_headers)]

    def is_not_modified_for(self, scope: Scope) -> bool:
        """The client already holds this body (a matching If-None-Match)."""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                return value == self._etag_bytes
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Fresh message dicts each time: middleware may add to a message on its way out.
        if self.is_not_modified_for(scope):
            await send({"type": "http.response.start", "status": 304,
                        "headers": list(self._not_modified_headers)})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": list(self._headers)})
        await send({"type": "http.response.body", "body": self.body})
