"""API tokens over REST (admin scope), through storage/api_tokens: made, listed, revoked, each
audited as the token's, as the API tokens page's are.

    GET, POST /api/v1/tokens · DELETE /api/v1/tokens/{id}

A new token is in the create's answer only (`token`): it is kept as its SHA-256 and never
shown again, nor stored with the answer an Idempotency-Key replays. Lists show its first
characters (`prefix`), its scope, expiry and last use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.limits import InvalidInput
from storage.api_tokens import TokenView, create_token, list_tokens, revoke_token
from web.idempotency import idempotent
from web.problems import not_found
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.row_ids import row_path
from web.write_refusals import WRITE_REFUSALS, refused

NO_TOKEN = "no token that is not revoked has this id"
TOKEN_FIELDS = ("name", "scope", "expires_in_days")
NOT_SHOWN_AGAIN = ("the token was shown once, in the first answer to this request: if it was "
                   "lost, revoke this one and make another")


def shown(token: TokenView, now: datetime | None = None) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {"id": token.id, "name": token.name, "scope": token.scope, "prefix": token.prefix,
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "revoked_at": iso(token.revoked_at), "last_used_at": iso(token.last_used_at),
            "active": token.active(now or datetime.now(UTC))}


def _parsed(body: dict[str, Any]) -> tuple[str, str, int | None]:
    errors = {field: "unknown field" for field in body if field not in TOKEN_FIELDS}
    for field in ("name", "scope"):
        if not isinstance(body.get(field, ""), str):
            errors[field] = "enter text"
    days = body.get("expires_in_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        errors["expires_in_days"] = "give a whole number of days, or null for no expiry"
    if errors:
        raise InvalidInput(errors)
    return body.get("name", ""), body.get("scope", ""), days


def _without_secret(answer: bytes) -> bytes:
    """What of a create's answer an Idempotency-Key keeps: all but the token itself."""
    return json.dumps({**json.loads(answer), "token": None,
                       "token_note": NOT_SHOWN_AGAIN}).encode()


def token_routes(limits: TokenBuckets) -> list[Route]:
    async def list_or_create(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        if request.method == "GET":
            return JSONResponse([shown(token) for token in await run_sync(list_tokens)])
        try:
            name, scope, days = _parsed(await json_body(request))
            token, secret = await run_sync(partial(create_token, name, scope, days,
                                                   actor=actor_of(grant)))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        return JSONResponse({**shown(token), "token": secret}, status_code=201,
                            headers={"Cache-Control": "no-store"})

    async def revoke(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        revoked = await run_sync(partial(revoke_token, request.path_params["id"],
                                         actor=actor_of(grant)))
        return Response(status_code=204) if revoked else not_found(NO_TOKEN)

    return [
        Route("/api/v1/tokens", limited(idempotent(list_or_create, kept=_without_secret),
                                        limits), methods=["GET", "POST"]),
        Route(row_path("/api/v1/tokens"), limited(revoke, limits), methods=["DELETE"]),
    ]
