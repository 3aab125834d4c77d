"""Reading an API write's body: at most MAX_REQUEST_BODY_BYTES (beyond is a 413, refused before
parsing), parsed as strict JSON (no NaN or Infinity, bounded nesting), a JSON object."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from domain.limits import MAX_REQUEST_BODY_BYTES, InvalidInput, load_json
from web.problems import invalid_input


class BodyTooLarge(Exception):
    """The body passed MAX_REQUEST_BODY_BYTES: what was read of it is dropped unparsed."""


def too_large() -> Response:
    return invalid_input({"body": f"send at most {MAX_REQUEST_BODY_BYTES // 1024} KB "
                                  f"({MAX_REQUEST_BODY_BYTES} bytes)"}, status=413)


async def bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BODY_BYTES:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():  # a chunked body declares no length
        body += chunk
        if len(body) > MAX_REQUEST_BODY_BYTES:
            raise BodyTooLarge
    return bytes(body)


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = load_json(await bounded_body(request) or b"null")
    except ValueError as exc:
        raise InvalidInput({"body": str(exc)}) from None
    if not isinstance(body, dict):
        raise InvalidInput({"body": "send a JSON object"})
    return body
