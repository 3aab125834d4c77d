"""Small response types and the request checks the routes share."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from config.settings import get_settings
from domain.tokens import allows
from storage.api_tokens import Grant, grant_for
from storage.audit import API_ACTOR


class SVGResponse(Response):
    media_type = "image/svg+xml"


def not_found(what: str = "not found") -> JSONResponse:
    return JSONResponse({"error": what}, status_code=404)


def not_known_yet() -> JSONResponse:
    """A public answer asked for before the read model's first snapshot (seconds after start):
    the same 503 for every path, so it confirms nothing about what exists."""
    return JSONResponse({"error": "the status is not known yet; try again in a few seconds"},
                        status_code=503, headers={"Retry-After": "2"})


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if the request sent one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def api_grant(request: Request) -> Grant | None:
    """Who the request's bearer token names and what it may do: UPWATCH_API_TOKEN is the
    bootstrap admin token, the others are named tokens (storage/api_tokens); None without a
    valid one."""
    token = bearer_token(request)
    if token is None:
        return None
    expected = get_settings().api_token
    if expected is not None and expected.get_secret_value() and hmac.compare_digest(
            token.encode(), expected.get_secret_value().encode()):
        return Grant(API_ACTOR, "admin")
    return grant_for(token)


def has_api_token(request: Request, needed: str = "read") -> bool:
    """Whether the request carries a token that may do what needs the scope `needed`."""
    grant = api_grant(request)
    return grant is not None and allows(grant.scope, needed)


def refusal(request: Request, needed: str) -> JSONResponse | None:
    """None when the request's token may do what needs `needed`; else 401 (no valid token)
    or 403 (a token whose scope is too small)."""
    grant = api_grant(request)
    if grant is None:
        return unauthorized()
    if not allows(grant.scope, needed):
        return JSONResponse(
            {"error": f"this token's scope is {grant.scope}; this needs {needed} or above"},
            status_code=403)
    return None


def api_actor(request: Request) -> str:
    """What the audit log records for a write made with the request's token."""
    grant = api_grant(request)
    return grant.actor if grant is not None else API_ACTOR


def unauthorized() -> JSONResponse:
    if get_settings().api_token is None:
        message = ("send 'Authorization: Bearer <token>': an API token made on the dashboard's "
                   "API tokens page, or UPWATCH_API_TOKEN set on the server")
    else:
        message = "send 'Authorization: Bearer <UPWATCH_API_TOKEN or an API token>'"
    return JSONResponse(
        {"error": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


def field_errors(errors: dict[str, str]) -> JSONResponse:
    """Bad input: 422 with one message per field, as every write and query route answers it."""
    return JSONResponse({"errors": errors}, status_code=422)


async def run_sync(func: Callable[..., Any], *args: Any) -> Any:
    # Sync database sessions must not run on the server's event loop.
    return await anyio.to_thread.run_sync(func, *args)
