"""The REST API described as OpenAPI 3.1, at GET /api/v1/openapi.json.

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

from domain.escalation import EscalationSettings
from domain.monitor_input import MonitorInput
from domain.severity import SEVERITIES
from domain.tokens import SCOPES

REF = "#/components/schemas/{model}"
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _schema_with_defs(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    schemas.update(schema.pop("$defs", {}))
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = _json(_ref("Errors"), "Bad input: one message per field; nothing was saved")
UNAUTHORIZED = {"description": "No valid token"}
FORBIDDEN = {"description": "The token's scope is too small"}
NOT_FOUND = {"description": "No such monitor (or one the caller may not see)"}


def _op(summary: str, scope: str | None, responses: dict[str, Any], **extra: Any
        ) -> dict[str, Any]:
    described = f"{summary}." + (f" Needs a token with the {scope} scope." if scope else "")
    operation: dict[str, Any] = {"summary": summary, "description": described,
                                 "responses": responses, **extra}
    if scope:
        operation["security"] = BEARER
        operation["responses"] = {**responses, "401": UNAUTHORIZED, "403": FORBIDDEN}
    return operation


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The monitor's address, made from its name (e.g. 'api')"}
FMT = {"name": "fmt", "in": "path", "required": True,
       "schema": {"type": "string", "enum": ["csv", "json"]}}
RANGE = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"},
          "description": "ISO date or time (UTC unless an offset is given)"}
         for name in ("from", "to")]


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
        },
        "required": ["slug", "name", "kind", "state"],
    }
    schemas["Errors"] = {"type": "object", "properties": {
        "errors": {"type": "object", "additionalProperties": {"type": "string"}}}}
    schemas["EscalationSettings"] = TypeAdapter(EscalationSettings).json_schema(
        ref_template=REF)
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
                       {"200": _json(monitor, "The monitor"), "404": NOT_FOUND}),
            "patch": _op("Change the fields given", "write",
                         {"200": _json(monitor, "Changed"), "404": NOT_FOUND, "422": ERRORS},
                         requestBody=_body({"type": "object"})),
            "delete": _op("Delete a monitor", "write",
                          {"204": {"description": "Deleted"}, "404": NOT_FOUND}),
        },
        "/api/v1/monitors.yaml": {"get": _op(
            "Every monitor as a monitors file (secrets masked)", "read",
            {"200": {"description": "YAML", "content": {"application/yaml": {
                "schema": {"type": "string"}}}}})},
        "/api/v1/monitors/{slug}/results.{fmt}": {"get": _op(
            "A monitor's results in a time range (default: the last 24 hours)", "read",
            {"200": {"description": "CSV or JSON rows"}, "404": NOT_FOUND, "422": ERRORS},
            parameters=[SLUG, FMT, *RANGE])},
        "/api/v1/reports/sla.{fmt}": {"get": _op(
            "Uptime and latency per monitor over whole days", "read",
            {"200": {"description": "CSV or JSON rows"}, "422": ERRORS},
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
            "get": _op("Reminders and flap detection", "admin",
                       {"200": _json(_ref("EscalationSettings"), "The settings")}),
            "patch": _op("Change reminders or flap detection", "admin",
                         {"200": _json(_ref("EscalationSettings"), "Changed"), "422": ERRORS},
                         requestBody=_body(_ref("EscalationSettings"))),
        },
        "/api/v1/status": {"get": _op(
            "The public status: overall state, public monitors, incidents, maintenance", None,
            {"200": _json({"type": "object"}, "The status")})},
        "/api/v1/push/{token}": {
            "parameters": [{"name": "token", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "get": _op("A push monitor's heartbeat (?status=up|down&msg=&ping=)", None,
                       {"200": {"description": "Recorded"}, "404": NOT_FOUND}),
            "post": _op("A push monitor's heartbeat", None,
                        {"200": {"description": "Recorded"}, "404": NOT_FOUND}),
        },
        "/api/v1/openapi.json": {"get": _op("This document", None,
                                            {"200": {"description": "OpenAPI 3.1"}})},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Upwatch API", "version": "1",
                 "description": "Token scopes nest: " + " < ".join(SCOPES) + ". Errors of bad "
                                "input are 422 with one message per field."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A token from the API tokens page, or UPWATCH_API_TOKEN"}}},
    }


def openapi_routes() -> list[Route]:
    async def document(request: Request) -> Response:
        return JSONResponse(openapi_document())

    return [Route("/api/v1/openapi.json", document, methods=["GET"])]
