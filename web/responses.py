"""Small response types and the request checks the routes share."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from config.settings import get_settings


class SVGResponse(Response):
    media_type = "image/svg+xml"


def not_found(what: str = "not found") -> JSONResponse:
    return JSONResponse({"error": what}, status_code=404)


def not_known_yet() -> JSONResponse:
    """A public answer asked for before the read model's first snapshot (seconds after start):
    the same 503 for every path, so it confirms nothing about what exists."""
    return JSONResponse({"error": "the status is not known yet; try again in a few seconds"},
                        status_code=503, headers={"Retry-After": "2"})


def has_api_token(request: Request) -> bool:
    expected = get_settings().api_token
    if expected is None or not expected.get_secret_value():
        return False
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    )


def unauthorized() -> JSONResponse:
    if get_settings().api_token is None:
        message = "writes are disabled: set UPWATCH_API_TOKEN on the server to enable them"
    else:
        message = "send 'Authorization: Bearer <UPWATCH_API_TOKEN>'"
    return JSONResponse(
        {"error": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


def field_errors(errors: dict[str, str]) -> JSONResponse:
    """Bad input: 422 with one message per field, as every write and query route answers it."""
    return JSONResponse({"errors": errors}, status_code=422)


async def run_sync(func: Callable[..., Any], *args: Any) -> Any:
    # Sync database sessions must not run on the server's event loop.
    return await anyio.to_thread.run_sync(func, *args)
