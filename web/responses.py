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
from web.problems import invalid_input, problem


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
    """Whether the request carries a token that may do what needs the scope `needed` (for a
    caller that holds no grant yet; the API routes use `request_grant` once per request)."""
    grant = api_grant(request)
    return grant is not None and allows(grant.scope, needed)


_GRANT_KEY = "upwatch.api_grant"


async def request_grant(request: Request) -> Grant | None:
    """The request's grant, looked up once per request and off the event loop (a named
    token's look-up may read the database); the rate limit and the route share it."""
    if _GRANT_KEY not in request.scope:
        request.scope[_GRANT_KEY] = await run_sync(api_grant, request)
    grant: Grant | None = request.scope[_GRANT_KEY]
    return grant


def refusal(grant: Grant | None, needed: str) -> Response | None:
    """None when `grant` may do what needs `needed`; else a 401 (no valid token) or 403 (a
    token whose scope is too small) problem."""
    if grant is None:
        return unauthorized()
    if not allows(grant.scope, needed):
        return problem(403, f"this token's scope is {grant.scope}; this needs {needed} or above")
    return None


def actor_of(grant: Grant | None) -> str:
    """What the audit log records for a write made with `grant`."""
    return grant.actor if grant is not None else API_ACTOR


def unauthorized() -> Response:
    if get_settings().api_token is None:
        message = ("send 'Authorization: Bearer <token>': an API token made on the dashboard's "
                   "API tokens page, or UPWATCH_API_TOKEN set on the server")
    else:
        message = "send 'Authorization: Bearer <UPWATCH_API_TOKEN or an API token>'"
    return problem(401, message, headers={"WWW-Authenticate": "Bearer"})


def field_errors(errors: dict[str, str]) -> Response:
    """Bad input: a 422 problem naming each wrong field, as every write and query route
    answers it."""
    return invalid_input(errors)


async def run_sync(func: Callable[..., Any], *args: Any) -> Any:
    # Sync database sessions must not run on the server's event loop.
    return await anyio.to_thread.run_sync(func, *args)
