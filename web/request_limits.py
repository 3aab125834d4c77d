"""Rate limits of the API and the acknowledgement links: per client, 429 with Retry-After.

An API client is its bearer token when it sends one (each token its own budget, wherever it
calls from), else its address; acknowledgement links count per address. The budgets are
UPWATCH_API_REQUESTS_PER_MINUTE and UPWATCH_ACK_REQUESTS_PER_MINUTE, per web process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from domain.tokens import token_hash
from web.problems import problem
from web.rate_limit import TokenBuckets
from web.responses import bearer_token, request_grant

Endpoint = Callable[[Request], Awaitable[Response]]


def per_minute(requests: int) -> TokenBuckets:
    return TokenBuckets(requests / 60, max(10, requests // 10))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def api_client(request: Request) -> str:
    token = bearer_token(request)
    # A token counts as the client only when it is valid: made-up tokens would each get a
    # budget of their own, so they count against their address.
    if token is not None and await request_grant(request) is not None:
        return "token:" + token_hash(token)[:16]
    return "address:" + client_address(request)


def limited(endpoint: Endpoint, buckets: TokenBuckets,
            client: Callable[[Request], str] | None = None) -> Endpoint:
    """`endpoint`, answering a 429 problem (with Retry-After, and nothing done) past the
    client's budget. The client is `client(request)`, by default the API client."""

    async def guarded(request: Request) -> Response:
        who = await api_client(request) if client is None else client(request)
        if wait_s := buckets.take(who):
            return problem(
                429, f"too many requests: at most {buckets.rate_per_s * 60:g} a minute "
                     f"(bursts of {buckets.burst}); try again in {wait_s} s",
                headers={"Retry-After": str(wait_s)})
        return await endpoint(request)

    return guarded
