"""Read-only answers over the monitors (read scope): one monitor's report for any window, and
the groups and tags with how many monitors each holds.

    GET /api/v1/monitors/{slug}/report?from=&to=   (default: the last 24 hours)
    GET /api/v1/groups · GET /api/v1/tags

The report's numbers are the monitor page's: uptime, p50/p95/p99, checks and failures from
storage/window_report; the incidents opened in the window and their MTTA / MTTR as the reports
count them (storage/incident_times, maintenance left out); and the incidents overlapping it
(storage/monitor_history), as its Incidents section lists them.

`from` and `to` are ISO dates (midnight UTC, as the page's custom range) or times (UTC unless an
offset is given); a window reaching past now ends now.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.states import effective_state
from storage.incident_times import monitor_response_times
from storage.monitor_history import incidents_between
from storage.monitors import MonitorView, get_monitor, list_monitors
from storage.window_report import window_report
from web.admin_api_models import GroupCount, MonitorReport, ReportIncident, TagCount
from web.problems import not_found
from web.query_params import BadParameters, moment_range
from web.rate_limit import TokenBuckets
from web.request_limits import limited
from web.responses import field_errors, refusal, request_grant, run_sync

MAX_REPORT_DAYS = 400
DEFAULT_SPAN = timedelta(days=1)


def report_range(params: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    """[from, to) of the query, cut at `now`; BadParameters naming a bad, reversed, future or
    too long one."""
    errors: dict[str, str] = {}
    start, end = moment_range(params, (now - DEFAULT_SPAN, now), UTC, errors)
    end = min(end, now)
    if not errors and end <= start:
        errors["to" if start < now else "from"] = (
            "must come after 'from'" if start < now else "the window starts in the future")
    if not errors and end - start > timedelta(days=MAX_REPORT_DAYS):
        errors["from"] = f"ask for at most {MAX_REPORT_DAYS} days at a time"
    if errors:
        raise BadParameters(errors)
    return start, end


def monitor_report(monitor: MonitorView, start: datetime, end: datetime,
                   now: datetime) -> dict[str, Any]:
    report = window_report(monitor.id, start, end, now)
    times = monitor_response_times(monitor.id, start, end, now)
    return MonitorReport.model_validate({
        "monitor": monitor.slug, "from": start, "to": end, "uptime": report.uptime,
        "up_s": report.up_s, "degraded_s": report.degraded_s, "down_s": report.down_s,
        "maintenance_s": report.maintenance_s, "checks": report.checks,
        "failures": report.failures, "p50_ms": report.p50, "p95_ms": report.p95,
        "p99_ms": report.p99, "incidents": times.incidents, "response_times": times.to_api(),
        "overlapping_incidents": [
            ReportIncident(id=i.id, title=i.title, status=i.status, started_at=i.started_at,
                           acknowledged_at=i.acknowledged_at, resolved_at=i.resolved_at)
            for i in incidents_between(monitor.id, start, end)],
    }).model_dump(mode="json", by_alias=True)


def group_counts(monitors: list[MonitorView]) -> list[dict[str, Any]]:
    """Each group (None: no group) with its monitors counted per state, named groups first
    (in the overview's order, case-blind), then the ungrouped."""
    states: dict[str | None, Counter[str]] = {}
    for monitor in monitors:
        states.setdefault(monitor.group_name, Counter())[
            effective_state(monitor.paused, monitor.state)] += 1
    order = sorted(states, key=lambda name: (name is None, (name or "").casefold()))
    return [GroupCount(name=name, monitors=sum(states[name].values()),
                       states=dict(sorted(states[name].items()))).model_dump()
            for name in order]


def tag_counts(monitors: list[MonitorView]) -> list[dict[str, Any]]:
    counts = Counter(tag for monitor in monitors for tag in monitor.tags)
    return [TagCount(tag=tag, monitors=counts[tag]).model_dump()
            for tag in sorted(counts, key=str.casefold)]


def monitor_report_routes(limits: TokenBuckets) -> list[Route]:
    async def report(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "read"):
            return denied
        monitor = await run_sync(get_monitor, request.path_params["slug"])
        if monitor is None:
            return not_found("no monitor has this slug")
        now = datetime.now(UTC)
        try:
            start, end = report_range(dict(request.query_params), now)
        except BadParameters as exc:
            return field_errors(exc.errors)
        return JSONResponse(await run_sync(monitor_report, monitor, start, end, now))

    async def groups(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "read"):
            return denied
        return JSONResponse(group_counts(await run_sync(list_monitors)))

    async def tags(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "read"):
            return denied
        return JSONResponse(tag_counts(await run_sync(list_monitors)))

    return [
        Route("/api/v1/monitors/{slug:str}/report", limited(report, limits), methods=["GET"]),
        Route("/api/v1/groups", limited(groups, limits), methods=["GET"]),
        Route("/api/v1/tags", limited(tags, limits), methods=["GET"]),
    ]
