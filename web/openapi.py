"""The REST API described as OpenAPI 3.1, at GET /api/v1/openapi.json: every error answer as
the Problem schema (web/problems), ETag and If-Match where updates take them.

Request bodies come from the same pydantic model the API validates with (MonitorInput), so the
document cannot drift from what is accepted; a test checks every /api/v1 route is described and
the document is valid OpenAPI.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.escalation import RANGES, EscalationSettings, override_json_schema
from domain.monitor_input import MonitorInput
from domain.severity import SEVERITIES
from domain.tokens import SCOPES
from domain.window_rules import rule_json_schema
from storage.incidents import STATUSES as INCIDENT_STATUSES
from web.openapi_access import access_paths, with_idempotency
from web.openapi_admin import admin_paths
from web.openapi_links import with_links
from web.openapi_parts import CHANGED, CONFLICT, ERRORS, IF_MATCH, NOT_FOUND, REF
from web.openapi_parts import json_answer as _json
from web.openapi_parts import operation as _op
from web.openapi_parts import ref as _ref
from web.openapi_parts import request_body as _body
from web.openapi_parts import schema_with_defs as _schema_with_defs
from web.openapi_parts import with_etag as _with_etag

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The monitor's address, made from its name (e.g. 'api')"}
FMT = {"name": "fmt", "in": "path", "required": True,
       "schema": {"type": "string", "enum": ["csv", "json"]}}
RANGE = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"},
          "description": "ISO date or time (UTC unless an offset is given)"}
         for name in ("from", "to")]


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _maintenance_and_incident_schemas() -> dict[str, Any]:
    text, when = {"type": "string"}, {"type": ["string", "null"], "format": "date-time"}
    window = {
        "title": text, "description": text, "monitor": {"type": ["string", "null"]},
        "group": {"type": ["string", "null"]}, "starts_at": when, "ends_at": when,
        "cron": {"type": ["string", "null"]}, "timezone": text,
        "duration_minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": 10080},
        "notify": {"type": "boolean"}}
    update = {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": when, "status": text, "message": text}}
    return {
        "MaintenanceInput": {
            "type": "object", "additionalProperties": False, "required": ["title"],
            "description": "One-off (starts_at, ends_at: ISO 8601) or recurring (cron in "
                           "timezone, duration_minutes); for a monitor (slug), a group, or all",
            "properties": window},
        "Maintenance": {"type": "object", "properties": {"id": {"type": "integer"}, **window}},
        "IncidentInput": {"type": "object", "additionalProperties": False,
                          "required": ["title", "message"], "properties": {
                              "title": text, "message": text, "monitor": text,
                              "status": {"type": "string", "enum": list(INCIDENT_STATUSES)},
                              "public": {"type": "boolean"}}},
        "IncidentUpdateInput": {"type": "object", "additionalProperties": False,
                                "required": ["status", "message"], "properties": {
                                    "status": {"type": "string",
                                               "enum": list(INCIDENT_STATUSES)},
                                    "message": text}},
        "Incident": {"type": "object", "properties": {
            "id": {"type": "integer"}, "title": text, "status": text, "started_at": when,
            "resolved_at": when, "public": {"type": "boolean"},
            "monitor_id": {"type": ["integer", "null"]},
            "monitor_name": {"type": ["string", "null"]}, "cause": {"type": ["string", "null"]},
            "severity": {"type": ["string", "null"]},
            "affected": {"type": "array", "items": text},
            "updates": {"type": "array", "items": update}}},
    }


def _maintenance_and_incident_paths() -> dict[str, Any]:
    window, incident = _ref("Maintenance"), _ref("Incident")
    windows = {"type": "array", "items": window}
    incidents = {"type": "array", "items": incident}

    def action(summary: str, body: dict[str, Any], guarded: bool = True, **more: Any
               ) -> dict[str, Any]:
        """An incident's action; `guarded`: it takes If-Match (412 when it no longer holds)."""
        answers = {"200": _with_etag(_json(incident, "The incident")), "404": NOT_FOUND, **more}
        extra: dict[str, Any] = {"parameters": [IF_MATCH]} if guarded else {}
        return {"parameters": [ID], "post": _op(
            summary, "write", answers | ({"412": CHANGED} if guarded else {}),
            requestBody=_body(body), **extra)}

    return {
        "/api/v1/maintenance": {
            "get": _op("Maintenance windows", "read", {"200": _json(windows, "The windows")}),
            "post": _op("Plan a maintenance window", "write",
                        {"201": _json(window, "Planned")},
                        requestBody=_body(_ref("MaintenanceInput"))),
        },
        "/api/v1/maintenance/{id}": {
            "parameters": [ID],
            "get": _op("One maintenance window", "read",
                       {"200": _with_etag(_json(window, "The window")), "404": NOT_FOUND}),
            "patch": _op("Change the fields given (checked as a whole)", "write",
                         {"200": _with_etag(_json(window, "Changed")), "404": NOT_FOUND,
                          "412": CHANGED},
                         requestBody=_body({"type": "object"}), parameters=[IF_MATCH]),
            "delete": _op("Delete a maintenance window", "write",
                          {"204": {"description": "Deleted"}, "404": NOT_FOUND,
                           "412": CHANGED}, parameters=[IF_MATCH]),
        },
        "/api/v1/incidents": {
            "get": _op("Open incidents and those resolved in the last 90 days", "read",
                       {"200": _json(incidents, "The incidents")}),
            "post": _op("Open an incident with its first update", "write",
                        {"201": _json(incident, "Opened")},
                        requestBody=_body(_ref("IncidentInput"))),
        },
        "/api/v1/incidents/{id}": {
            "parameters": [ID],
            "get": _op("One incident and its timeline", "read",
                       {"200": _with_etag(_json(incident, "The incident")),
                        "404": NOT_FOUND})},
        "/api/v1/incidents/{id}/updates": action(
            "Post an update (the incident takes its status)", _ref("IncidentUpdateInput")),
        "/api/v1/incidents/{id}/acknowledge": action(
            "Acknowledge (stops escalation and reminders)",
            {"type": "object", "properties": {"by": {"type": "string"}}}, guarded=False,
            **{"409": CONFLICT}),
        "/api/v1/incidents/{id}/resolve": action(
            "Resolve, with an optional closing message",
            {"type": "object", "properties": {"message": {"type": "string"}}}),
    }


def _escalation_schema(schemas: dict[str, Any]) -> dict[str, Any]:
    """The escalation settings from their dataclass, with what its types cannot say."""
    schema = _schema_with_defs(TypeAdapter(EscalationSettings).json_schema(ref_template=REF),
                               schemas)
    severities = {"type": "string", "enum": list(SEVERITIES)}
    schema["properties"]["steps"].update(
        propertyNames=severities,
        description="Per severity, in order: after `after_minutes` (0-1440) with the outage "
                    "unacknowledged, page these channels (by name) too. The monitor's routed "
                    "channels are the first page. A PATCH replaces the steps of the severities "
                    "it names.")
    schema["properties"]["digest"].update(
        items=severities, description="Severities whose changes page nobody: each channel "
                                      "gets one message an hour listing them.")
    return schema


@cache
def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    schemas["MonitorInput"] = _schema_with_defs(
        MonitorInput.model_json_schema(ref_template=REF), schemas)
    schemas["Monitor"] = {
        "type": "object",
        "description": "A monitor as the API shows it: its settings (secrets masked) and state.",
        "properties": {
            **{name: {"type": "string"} for name in ("slug", "name", "kind", "url", "state")},
            "reason": {"type": ["string", "null"]},
            "public": {"type": "boolean"}, "interval": {"type": "integer"},
            "timeout": {"type": "number"}, "latency_ms": {"type": ["number", "null"]},
            "since": {"type": ["string", "null"], "format": "date-time"},
            "last_check_at": {"type": ["string", "null"], "format": "date-time"},
            "options": {"type": "object"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "depends_on": {"type": "array", "items": {"type": "string"}},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "runbook_url": {"type": ["string", "null"]},
            "rules": {"type": "array", "items": rule_json_schema()},
            **{name: override_json_schema(name) for name in RANGES},
        },
        "required": ["slug", "name", "kind", "state"],
    }
    schemas["Problem"] = {
        "type": "object", "description": "RFC 9457 problem details (application/problem+json)",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "description": "Bad input: each wrong field",
                       "items": {"type": "object", "required": ["field", "message"],
                                 "properties": {"field": {"type": "string"},
                                                "message": {"type": "string"}}}},
            "current_etag": {"type": "string", "description": "412: the ETag now"},
        },
        "required": ["type", "title", "status", "detail"],
    }
    schemas.update(_maintenance_and_incident_schemas())
    schemas["EscalationSettings"] = _escalation_schema(schemas)
    monitor, monitors = _ref("Monitor"), {"type": "array", "items": _ref("Monitor")}
    paths: dict[str, Any] = {
        "/api/v1/monitors": {
            "get": _op("List monitors (public ones without URL or reason, without a token)",
                       None, {"200": _json(monitors, "The monitors")}),
            "post": _op("Create a monitor", "write",
                        {"201": _json(monitor, "Created"), "422": ERRORS},
                        requestBody=_body(_ref("MonitorInput"))),
        },
        "/api/v1/monitors/{slug}": {
            "parameters": [SLUG],
            "get": _op("One monitor (a private one only with a token)", None,
                       {"200": _with_etag(_json(monitor, "The monitor")), "404": NOT_FOUND}),
            "patch": _op("Change the fields given", "write",
                         {"200": _with_etag(_json(monitor, "Changed")), "404": NOT_FOUND,
                          "412": CHANGED},
                         requestBody=_body({"type": "object"}), parameters=[IF_MATCH]),
            "delete": _op("Delete a monitor", "write",
                          {"204": {"description": "Deleted"}, "404": NOT_FOUND,
                           "412": CHANGED}, parameters=[IF_MATCH]),
        },
        "/api/v1/monitors.yaml": {"get": _op(
            "Every monitor as a monitors file (secrets masked)", "read",
            {"200": {"description": "YAML", "content": {"application/yaml": {
                "schema": {"type": "object", "properties": {"monitors": {"type": "array"}}}}}}})},
        "/api/v1/monitors/{slug}/results": {"get": _op(
            "A monitor's results a page at a time, newest first (default: the last 24 hours)",
            "read",
            {"200": _json({"type": "object", "required": ["results", "next_cursor"],
                           "properties": {
                               "results": {"type": "array", "items": {"type": "object"}},
                               "next_cursor": {"type": ["string", "null"]}}},
                          "results and the cursor of the next page (null: no more)"),
             "404": NOT_FOUND, "422": ERRORS},
            parameters=[SLUG, *RANGE, *(
                {"name": name, "in": "query", "required": False, "schema": schema,
                 "description": text} for name, schema, text in (
                    ("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                     "results a page (default 100)"),
                    ("cursor", {"type": "string"}, "an earlier answer's next_cursor"),
                    ("failures_only", {"type": "string", "enum": ["true", "false"]},
                     "only failed checks")))])},
        "/api/v1/monitors/{slug}/results.{fmt}": {"get": _op(
            "A monitor's results in a time range (default: the last 24 hours)", "read",
            {"200": {"description": "CSV or JSON rows"}, "404": NOT_FOUND, "422": ERRORS},
            parameters=[SLUG, FMT, *RANGE])},
        "/api/v1/reports/response-times": {"get": _op(
            "MTTA and MTTR of the incidents opened in a range, overall and by monitor, group or "
            "severity (and per calendar month)", "read",
            {"200": _json({"type": "object"}, "overall and rows (and months, with per=month)"),
             "422": ERRORS},
            parameters=[
                *({"name": name, "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "ISO date (midnight in UPWATCH_TIMEZONE) or time (UTC unless "
                                  "an offset is given); default: this month"}
                  for name in ("from", "to")),
                {"name": "by", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["monitor", "group", "severity"],
                            "default": "monitor"}},
                {"name": "per", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["month"]}}])},
        "/api/v1/reports/sla.{fmt}": {"get": _op(
            "Uptime and latency per monitor over whole days", "read",
            {"200": {"description": "CSV or JSON rows"}, "404": NOT_FOUND, "422": ERRORS},
            parameters=[FMT, *RANGE, {"name": "tz", "in": "query", "required": False,
                                      "schema": {"type": "string"}}])},
        "/api/v1/audit": {"get": _op(
            "Who changed what and when, newest first", "admin",
            {"200": _json({"type": "object"}, "Entries and next_cursor"), "422": ERRORS},
            parameters=[{"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                        {"name": "cursor", "in": "query", "required": False,
                         "schema": {"type": "string"}}])},
        "/api/v1/alerting/escalation": {
            "get": _op("Reminders, flap detection, escalation steps and the digest", "admin",
                       {"200": _with_etag(_json(_ref("EscalationSettings"), "The settings"))}),
            "patch": _op("Change the fields given (steps: of the severities named)", "admin",
                         {"200": _with_etag(_json(_ref("EscalationSettings"), "Changed")),
                          "412": CHANGED, "422": ERRORS},
                         requestBody=_body(_ref("EscalationSettings")), parameters=[IF_MATCH]),
        },
        **_maintenance_and_incident_paths(),
        "/api/v1/status": {"get": _op(
            "The public status: overall state, public monitors, incidents, maintenance", None,
            {"200": _json({"type": "object"}, "The status")})},
        "/api/v1/push/{token}": {
            "parameters": [{"name": "token", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "get": _op("A push monitor's heartbeat (?status=up|down&msg=&ping=)", None,
                       {"200": {"description": "Recorded"}, "404": NOT_FOUND,
                        "422": ERRORS}),
            "post": _op("A push monitor's heartbeat", None,
                        {"200": {"description": "Recorded"}, "404": NOT_FOUND,
                         "422": ERRORS}),
        },
        "/api/v1/openapi.json": {"get": _op("This document", None,
                                            {"200": {"description": "OpenAPI 3.1"}})},
    }
    paths = with_links(with_idempotency(
        {**paths, **admin_paths(schemas), **access_paths(schemas)}), schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Upwatch API", "version": "1",
                 "description": "Token scopes nest: " + " < ".join(SCOPES) + ". Every error "
                                "is an RFC 9457 problem (application/problem+json); bad input "
                                "is a 422 whose `errors` names each wrong field. Updates take "
                                "If-Match with the ETag read: a 412 when it no longer holds."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A token from the API tokens page, or UPWATCH_API_TOKEN"}}},
    }


def openapi_routes() -> list[Route]:
    async def document(request: Request) -> Response:
        return JSONResponse(openapi_document())

    return [Route("/api/v1/openapi.json", document, methods=["GET"])]
