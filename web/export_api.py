"""Export routes: a monitor's results, the SLA report, the audit log (API token required).

    GET /api/v1/monitors/{slug}/results.csv|.json?from=&to=
    GET /api/v1/reports/sla.csv|.json?from=&to=&tz=
    GET /api/v1/audit?limit=&cursor=

The audit log comes newest first, `limit` entries (default 50, at most 500) a page; an answer
with more to come carries `next_cursor`, to send as `cursor` for the next page.

`from` and `to` are ISO dates (YYYY-MM-DD) or times (with an offset, else UTC). For results the
range is [from, to) and defaults to the last 24 hours; for the SLA report they are days in `tz`,
both included, and default to this month. Dates lie between `domain.limits.EARLIEST_DATE` and
`LATEST_DATE`. Bad parameters are a 422 problem naming each (web/problems).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config.settings import get_settings
from domain.limits import check_date, parse_time_zone
from storage.audit import MAX_PAGE, audit_page_with_cursor
from storage.export import RESULT_COLUMNS, SLA_COLUMNS, results_between, sla_report, to_csv
from storage.monitors import get_monitor
from web.problems import not_found
from web.query_params import BadParameters, moment_range
from web.rate_limit import TokenBuckets
from web.request_limits import limited, per_minute
from web.responses import field_errors, refusal, request_grant, run_sync

MAX_RESULT_DAYS = 92
MAX_SLA_DAYS = 400


def _parse_day(text: str, field: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadParameters({field: f"{text[:40]!r} is not a date: use YYYY-MM-DD"}) from None
    try:
        return check_date(day)
    except ValueError as exc:
        raise BadParameters({field: str(exc)}) from None


@dataclass(frozen=True, slots=True)
class ResultRange:
    start: datetime
    end: datetime


def parse_result_range(params: dict[str, str], now: datetime) -> ResultRange:
    errors: dict[str, str] = {}
    start, end = moment_range(params, (now - timedelta(days=1), now), UTC, errors)
    if not errors and end <= start:
        errors["to"] = "must come after 'from'"
    if not errors and end - start > timedelta(days=MAX_RESULT_DAYS):
        errors["from"] = f"ask for at most {MAX_RESULT_DAYS} days of results at a time"
    if errors:
        raise BadParameters(errors)
    return ResultRange(start, end)


@dataclass(frozen=True, slots=True)
class SlaRange:
    first: date
    last: date
    zone: tzinfo


def parse_sla_range(params: dict[str, str], now: datetime) -> SlaRange:
    errors: dict[str, str] = {}
    zone: tzinfo = get_settings().zone
    if params.get("tz"):
        try:
            zone = parse_time_zone(params["tz"])
        except ValueError as exc:
            errors["tz"] = str(exc)
    today = now.astimezone(zone).date()
    first, last = today.replace(day=1), today
    for field in ("from", "to"):
        if params.get(field):
            try:
                day = _parse_day(params[field], field)
            except BadParameters as exc:
                errors.update(exc.errors)
                continue
            first, last = (day, last) if field == "from" else (first, day)
    if not errors and last < first:
        errors["to"] = "must not come before 'from'"
    if not errors and (last - first).days >= MAX_SLA_DAYS:
        errors["from"] = f"ask for at most {MAX_SLA_DAYS} days at a time"
    if errors:
        raise BadParameters(errors)
    return SlaRange(first, last, zone)


FORMATS = ("csv", "json")
NO_FORMAT = "ask for .csv or .json"


@dataclass(frozen=True, slots=True)
class AuditPage:
    limit: int
    before_id: int | None


def parse_audit_page(params: dict[str, str]) -> AuditPage:
    errors: dict[str, str] = {}
    limit, before_id = 50, None
    if params.get("limit"):
        text = params["limit"]
        if text.isdigit() and 1 <= int(text) <= MAX_PAGE:
            limit = int(text)
        else:
            errors["limit"] = f"give a whole number from 1 to {MAX_PAGE}"
    if params.get("cursor"):
        text = params["cursor"]
        if text.isdigit() and len(text) <= 18:
            before_id = int(text)
        else:
            errors["cursor"] = "send back the next_cursor of an earlier answer"
    if errors:
        raise BadParameters(errors)
    return AuditPage(limit, before_id)


def _answer(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(to_csv(rows, columns), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(json.dumps(rows), media_type="application/json")


def export_routes(limits: TokenBuckets | None = None) -> list[Route]:
    """The export routes, within the client's rate limit (`limits`, as web/api's)."""
    buckets = per_minute(get_settings().api_requests_per_minute) if limits is None else limits
    async def results(request: Request) -> Response:
        if request.path_params["fmt"] not in FORMATS:
            return not_found(NO_FORMAT)
        if denied := refusal(await request_grant(request), "read"):
            return denied
        monitor = await run_sync(get_monitor, request.path_params["slug"])
        if monitor is None:
            return not_found("no monitor has this slug")
        try:
            span = parse_result_range(dict(request.query_params), datetime.now(UTC))
        except BadParameters as exc:
            return field_errors(exc.errors)
        rows = await run_sync(results_between, monitor.id, span.start, span.end)
        return _answer(rows, RESULT_COLUMNS, request.path_params["fmt"],
                       f"{monitor.slug}-results")

    async def sla(request: Request) -> Response:
        if request.path_params["fmt"] not in FORMATS:
            return not_found(NO_FORMAT)
        if denied := refusal(await request_grant(request), "read"):
            return denied
        try:
            span = parse_sla_range(dict(request.query_params), datetime.now(UTC))
        except BadParameters as exc:
            return field_errors(exc.errors)
        rows = await run_sync(sla_report, span.first, span.last, span.zone)
        return _answer(rows, SLA_COLUMNS, request.path_params["fmt"],
                       f"sla-{span.first}-{span.last}")

    async def audit(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "admin"):
            return denied
        try:
            page = parse_audit_page(dict(request.query_params))
        except BadParameters as exc:
            return field_errors(exc.errors)
        shown, cursor = await run_sync(audit_page_with_cursor, page.limit, page.before_id)
        return JSONResponse({"entries": [entry.to_api() for entry in shown],
                             "next_cursor": None if cursor is None else str(cursor)})

    return [
        Route("/api/v1/audit", limited(audit, buckets), methods=["GET"]),
        Route("/api/v1/monitors/{slug:str}/results.{fmt:str}", limited(results, buckets),
              methods=["GET"]),
        Route("/api/v1/reports/sla.{fmt:str}", limited(sla, buckets), methods=["GET"]),
    ]
