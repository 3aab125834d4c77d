"""Error answers of the REST API as RFC 9457 problem details (`application/problem+json`).

Every /api/v1 error is built by `problem`: `type` ("about:blank": the status says what kind of
problem it is), `title` (the status's phrase), `status`, `detail` (a sentence saying what to
do), and, for bad input, `errors`: one `{"field", "message"}` per wrong field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route

PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def field_list(errors: Mapping[str, str]) -> list[dict[str, str]]:
    """A field -> message map (as InvalidInput holds it) as the problem's `errors` list."""
    return [{"field": field, "message": message} for field, message in errors.items()]


def problem(status: int, detail: str, *, errors: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None, **extra: Any) -> ProblemResponse:
    """The one builder of API error answers; `extra` adds members (e.g. `current_etag`)."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase,
                            "status": status, "detail": detail, **extra}
    if errors is not None:
        body["errors"] = field_list(errors)
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def invalid_input(errors: Mapping[str, str], status: int = 422) -> ProblemResponse:
    """Bad input: one message per field, nothing was saved."""
    fields = ", ".join(errors)
    return problem(status, f"fix {fields} and send again: nothing was saved", errors=errors)


def not_found(what: str = "nothing is here") -> ProblemResponse:
    return problem(404, what)


class AnyRest(Convertor[str]):
    """The rest of a path, line breaks included: Starlette's `path` (`.*`) stops at a newline
    (%0A), and such a request would get Starlette's plain-text 404 instead of a problem."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anyrest", AnyRest())


def api_fallback(routes: Sequence[BaseRoute]) -> list[Route]:
    """The answer for an /api/v1 request no route took (registered after every API route):
    a 405 problem naming the methods when one of `routes` has the path, else a 404 problem,
    where Starlette would answer plain text and Streamlit its HTML page with a 200."""

    async def unmatched(request: Request) -> ProblemResponse:
        for route in routes:  # a route of this path that does not take this method
            if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
                allowed = ", ".join(sorted(route.methods or ()))
                return problem(405, f"{request.method} is not answered here: use {allowed}",
                               headers={"Allow": allowed})
        return not_found("no such API route: /api/v1/openapi.json lists them")

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [Route("/api/v1/{rest:anyrest}", unmatched, methods=methods)]
