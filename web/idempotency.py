"""Idempotency-Key on the API's creates: a create sent again with the same key gets the first
answer again (header `Idempotent-Replayed: true`), and nothing is made twice.

- same key, same route and body (as JSON: order and spacing aside): the stored answer;
- same key while the first request still runs (two at once, any process): the second waits
  for the first's answer, up to WAIT_S, then a 409 problem;
- same key, another route or body: a 422 problem naming the Idempotency-Key header.

Keys belong to the token's principal (two clients never share one) and are kept 24 hours
(storage/idempotency). Only a success is kept: a refused create made nothing, so its key is
freed and the client may fix the cause and send again. A request without the header, or without
a valid token (the route answers 401), goes through as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import lru_cache, partial

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from config.settings import get_settings
from domain.idempotency import HEADER, body_fingerprint, checked_key
from storage.db import get_engine
from storage.idempotency import Claim, Different, Replay, Reserved, complete, release, reserve
from storage.key_source import secret_key
from web.problems import problem
from web.request_body import bounded_body
from web.request_limits import Endpoint
from web.responses import field_errors, request_grant, run_sync
from web.write_refusals import WRITE_REFUSALS, refused

WAIT_S = 10.0  # how long a repeat waits for the first request's answer
POLL_S = 0.05
REPLAYED = "Idempotent-Replayed"


@lru_cache(maxsize=4)
def _fingerprint_key(database_url: str) -> str:
    # The key never changes while a process runs (UPWATCH_SECRET_KEY, or the one kept in the
    # database since its first use): read once per database rather than on every create.
    return secret_key(get_engine(), get_settings())


def _claim(principal: str, key: str, request: str, body: bytes) -> tuple[Claim, str]:
    fingerprint = body_fingerprint(_fingerprint_key(get_settings().database_url), body)
    return reserve(principal, key, request, fingerprint), fingerprint


def _replaying(body: bytes) -> Receive:
    """A `receive` that hands the endpoint the body already read (once, as one message)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def idempotent(endpoint: Endpoint, kept: Callable[[bytes], bytes] | None = None) -> Endpoint:
    """`endpoint` (a create) honouring Idempotency-Key. `kept`: what of a success's body may
    be stored and replayed (a new token's answer keeps no token: it is shown once)."""

    async def guarded(request: Request) -> Response:
        sent_key = request.headers.get(HEADER)
        if sent_key is None or request.method != "POST":
            return await endpoint(request)
        grant = await request_grant(request)
        if grant is None:
            return await endpoint(request)
        try:
            key = checked_key(sent_key)
            body = await bounded_body(request)
        except WRITE_REFUSALS as exc:
            return refused(exc)
        what = f"{request.method} {request.url.path}"
        claim, fingerprint = await run_sync(_claim, grant.actor, key, what, body)
        deadline = time.monotonic() + WAIT_S
        while not isinstance(claim, Reserved):
            if isinstance(claim, Replay):
                return Response(claim.answer, status_code=claim.status,
                                media_type=claim.media_type, headers={REPLAYED: "true"})
            if isinstance(claim, Different):
                return field_errors({HEADER: "this key was used for another request (another "
                                             "route or body): send a new key for a new "
                                             "request"})
            if time.monotonic() >= deadline:
                return problem(409, "the first request with this Idempotency-Key has not "
                                    "answered yet (or never finished): send it again later, or "
                                    "check whether it was made before using a new key")
            await asyncio.sleep(POLL_S)
            claim = await run_sync(reserve, grant.actor, key, what, fingerprint)

        row_id = claim.row_id
        try:
            response = await endpoint(Request(request.scope, _replaying(body)))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_sync(release, row_id)
            raise
        answer = getattr(response, "body", None)
        if 200 <= response.status_code < 300 and isinstance(answer, bytes):
            stored = kept(answer) if kept is not None else answer
            with anyio.CancelScope(shield=True):
                await run_sync(partial(complete, row_id, response.status_code,
                                       response.media_type or "application/json",
                                       stored.decode()))
        else:
            with anyio.CancelScope(shield=True):
                await run_sync(release, row_id)
        return response

    return guarded
