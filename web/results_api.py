"""A monitor's results a page at a time (read token):

    GET /api/v1/monitors/{slug}/results?from=&to=&limit=&cursor=&failures_only=

Newest first, `limit` a page (default 100, at most 1000), over [from, to) (the last 24 hours by
default, at most 92 days, as the CSV/JSON export). An answer with more to come carries
`next_cursor`; sending it back as `cursor` gives the results after the last one shown, so results
recorded meanwhile neither shift a page nor repeat one. Bad parameters are a 422 naming each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.monitor_history import RawResult, ResultKey, results_before
from storage.monitors import get_monitor
from web.export_api import parse_result_range
from web.problems import not_found
from web.query_params import BadParameters
from web.rate_limit import TokenBuckets
from web.request_limits import limited
from web.responses import field_errors, refusal, request_grant, run_sync

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ResultsPage:
    limit: int
    after: ResultKey | None
    failures_only: bool


def cursor_of(key: ResultKey) -> str:
    """An opaque cursor: the key's time in microseconds since the epoch and its id."""
    return f"{round(key.checked_at.timestamp() * 1_000_000)}-{key.id}"


def key_of(cursor: str) -> ResultKey:
    """The key a cursor names; ValueError for anything cursor_of did not make."""
    micros, _, row_id = cursor.partition("-")
    if not micros.isdigit() or not row_id.isdigit() or len(cursor) > 40:
        raise ValueError(cursor)
    return ResultKey(datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(row_id))


def parse_results_page(params: dict[str, str]) -> ResultsPage:
    errors: dict[str, str] = {}
    limit = DEFAULT_LIMIT
    if params.get("limit"):
        text = params["limit"]
        if text.isdigit() and 1 <= int(text) <= MAX_LIMIT:
            limit = int(text)
        else:
            errors["limit"] = f"give a whole number from 1 to {MAX_LIMIT}"
    after = None
    if params.get("cursor"):
        try:
            after = key_of(params["cursor"])
        except (ValueError, OverflowError, OSError):
            errors["cursor"] = "send back the next_cursor of an earlier answer"
    failures_only = False
    if params.get("failures_only"):
        if params["failures_only"] not in ("true", "false"):
            errors["failures_only"] = "give true or false"
        failures_only = params["failures_only"] == "true"
    if errors:
        raise BadParameters(errors)
    return ResultsPage(limit, after, failures_only)


def shown(result: RawResult) -> dict[str, object]:
    return {"checked_at": result.checked_at.isoformat(), "outcome": result.outcome,
            "latency_ms": result.latency_ms, "http_status": result.http_status,
            "reason": result.reason, "phases": result.phases}


def results_routes(limits: TokenBuckets) -> list[Route]:
    async def results(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "read"):
            return denied
        monitor = await run_sync(get_monitor, request.path_params["slug"])
        if monitor is None:
            return not_found("no monitor has this slug")
        params = dict(request.query_params)
        errors: dict[str, str] = {}
        span = page = None
        try:
            span = parse_result_range(params, datetime.now(UTC))
        except BadParameters as exc:
            errors.update(exc.errors)
        try:
            page = parse_results_page(params)
        except BadParameters as exc:
            errors.update(exc.errors)
        if errors or span is None or page is None:
            return field_errors(errors)
        rows, next_key = await run_sync(results_before, monitor.id, span.start, span.end,
                                        page.limit, page.after, page.failures_only)
        return JSONResponse({"results": [shown(row) for row in rows],
                             "next_cursor": None if next_key is None else cursor_of(next_key)})

    return [Route("/api/v1/monitors/{slug:str}/results", limited(results, limits),
                  methods=["GET"])]
