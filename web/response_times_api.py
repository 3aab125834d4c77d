"""MTTA and MTTR over REST (read scope):

    GET /api/v1/reports/response-times?from=&to=&by=monitor|group|severity[&per=month]

The range is [from, to): `from` and `to` are dates (YYYY-MM-DD, midnight in the configured
zone, UPWATCH_TIMEZONE) or ISO 8601 times (with an offset, else UTC); both default to this
calendar month, and a range is at most 400 days long (MAX_RANGE_DAYS). `by` (default
`monitor`) groups the figures; `per=month` adds the same figures for each calendar month of the
range (in the zone). The figures are defined in analytics/incident_times.py: an incident counts
where it opened, maintenance is left out, durations are seconds. Bad parameters are a 422
problem naming each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from analytics.incident_times import (
    GROUPINGS,
    MAX_RANGE_DAYS,
    Grouping,
    GroupTimes,
    Period,
    calendar_month,
    grouped,
    per_period,
    summarize,
)
from config.settings import get_settings
from storage.incident_times import incident_times_between, month_periods
from web.query_params import BadParameters, moment_range
from web.rate_limit import TokenBuckets
from web.request_limits import limited, per_minute
from web.responses import field_errors, refusal, request_grant, run_sync

PER_CHOICES = ("month",)


@dataclass(frozen=True, slots=True)
class ResponseTimeQuery:
    start: datetime
    end: datetime
    by: Grouping
    per_month: bool


def parse_query(params: dict[str, str], now: datetime, zone: tzinfo) -> ResponseTimeQuery:
    """The query's range and grouping, or BadParameters naming each bad parameter."""
    errors: dict[str, str] = {}
    start, end = moment_range(params, calendar_month(now, zone), zone, errors)
    by = params.get("by") or "monitor"
    if by not in GROUPINGS:
        errors["by"] = f"group by {', '.join(GROUPINGS)}"
    per = params.get("per") or None
    if per is not None and per not in PER_CHOICES:
        errors["per"] = "leave it out, or send per=month"
    if "from" not in errors and "to" not in errors:
        if end <= start:
            errors["to"] = "must come after 'from'"
        elif end - start > timedelta(days=MAX_RANGE_DAYS):
            errors["from"] = f"ask for at most {MAX_RANGE_DAYS} days at a time"
    if errors:
        raise BadParameters(errors)
    return ResponseTimeQuery(start, end, cast(Grouping, by), per == "month")


def _rows(groups: list[GroupTimes]) -> list[dict[str, Any]]:
    return [{"key": group.key, "label": group.label, **group.times.to_api()} for group in groups]


def _period(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def response_times_body(query: ResponseTimeQuery, zone: tzinfo, now: datetime) -> dict[str, Any]:
    """The answer: the range's figures overall and grouped, and (per=month) each month's."""
    read = incident_times_between(query.start, query.end, now)
    body: dict[str, Any] = {
        "from": query.start.isoformat(), "to": query.end.isoformat(), "zone": str(zone),
        "by": query.by, "per": "month" if query.per_month else None,
        "overall": summarize(read.incidents, read.maintenance, now).to_api(),
        "rows": _rows(grouped(read.incidents, read.maintenance, query.by, now)),
    }
    if query.per_month:
        months = month_periods(query.start, query.end, zone)
        body["months"] = [
            {"month": item.period.label, **_period(item.period),
             "overall": item.overall.to_api(), "rows": _rows(item.groups)}
            for item in per_period(read.incidents, read.maintenance, months, query.by, now)
        ]
    return body


def response_time_routes(buckets: TokenBuckets | None = None) -> list[Route]:
    """The response-times route, within the client's rate limit (`buckets`: the budgets shared
    with the other /api/v1 routes; default: a budget of its own)."""
    limits = per_minute(get_settings().api_requests_per_minute) if buckets is None else buckets

    async def response_times(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "read"):
            return denied
        zone = get_settings().zone
        now = datetime.now(UTC)
        try:
            query = parse_query(dict(request.query_params), now, zone)
        except BadParameters as exc:
            return field_errors(exc.errors)
        return JSONResponse(await run_sync(response_times_body, query, zone, now))

    return [Route("/api/v1/reports/response-times", limited(response_times, limits),
                  methods=["GET"])]
