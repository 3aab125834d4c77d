"""Rate limits of the API and the acknowledgement links: per client, 429 with Retry-After.

An API client is its bearer token when it sends one (each token its own budget, wherever it
calls from), else its address; acknowledgement links count per address. The budgets are
UPWATCH_API_REQUESTS_PER_MINUTE and UPWATCH_ACK_REQUESTS_PER_MINUTE, per web process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.tokens import token_hash
from web.rate_limit import TokenBuckets
from web.responses import api_grant, bearer_token

Endpoint = Callable[[Request], Awaitable[Response]]


def per_minute(requests: int) -> TokenBuckets:
    return TokenBuckets(requests / 60, max(10, requests // 10))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def api_client(request: Request) -> str:
    token = bearer_token(request)
    # A token counts as the client only when it is valid: made-up tokens would each get a
    # budget of their own, so they count against their address.
    if token is not None and api_grant(request) is not None:
        return "token:" + token_hash(token)[:16]
    return "address:" + client_address(request)


def limited(endpoint: Endpoint, buckets: TokenBuckets,
            client: Callable[[Request], str] = api_client) -> Endpoint:
    """`endpoint`, answering 429 (with Retry-After, and nothing done) past the client's budget."""

    async def guarded(request: Request) -> Response:
        if wait_s := buckets.take(client(request)):
            return JSONResponse(
                {"error": f"too many requests: at most {buckets.rate_per_s * 60:g} a minute "
                          f"(bursts of {buckets.burst}); try again in {wait_s} s"},
                status_code=429, headers={"Retry-After": str(wait_s)})
        return await endpoint(request)

    return guarded
