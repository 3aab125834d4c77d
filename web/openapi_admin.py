"""The OpenAPI part for the monitors' actions and report, groups and tags, channels, quiet hours
and routing; their schemas are the pydantic models the routes answer and read bodies with
(web/admin_api_models)."""

from __future__ import annotations

from typing import Any

from web.admin_api_models import (
    Channel,
    ChannelInput,
    ChannelQuietHours,
    CheckOutcome,
    CloneInput,
    GroupCount,
    MonitorReport,
    MonitorRouting,
    MonitorRoutingShown,
    QuietHours,
    TagCount,
    TestSent,
)
from web.openapi_parts import (
    CHANGED,
    IF_MATCH,
    json_answer,
    model_schema,
    operation,
    problem_answer,
    ref,
    request_body,
    with_etag,
)

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The monitor's address, made from its name (e.g. 'api')"}
CHANNEL_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
              "description": "The channel's id"}
NO_MONITOR = problem_answer("No monitor has this slug")
NO_CHANNEL = problem_answer("No channel has this id")
PUSH = problem_answer("A push monitor is checked by its heartbeats, not on demand")
FROM_ENV = problem_answer("The channel comes from the environment: unset its variables")
WINDOW = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"},
           "description": "ISO date (midnight UTC) or time (UTC unless an offset is given); "
                          "default: the last 24 hours, up to now; at most 400 days"}
          for name in ("from", "to")]


def _array(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


def _monitor_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    monitor = with_etag(json_answer(ref("Monitor"), "The monitor"))
    outcome = model_schema(schemas, CheckOutcome, mode="serialization")
    clone = model_schema(schemas, CloneInput)
    report = model_schema(schemas, MonitorReport, mode="serialization")

    def action(summary: str, answer: dict[str, Any]) -> dict[str, Any]:
        return {"parameters": [SLUG], "post": operation(summary, "write", {
            "200": answer, "404": NO_MONITOR})}

    return {
        "/api/v1/monitors/{slug}/pause": action("Pause its checks", monitor),
        "/api/v1/monitors/{slug}/resume": action("Resume its checks", monitor),
        "/api/v1/monitors/{slug}/check": {"parameters": [SLUG], "post": operation(
            "Check it now; the result is recorded like a scheduled check's", "write",
            {"200": json_answer(outcome, "The result, with its timing phases"),
             "404": NO_MONITOR, "409": PUSH})},
        "/api/v1/monitors/{slug}/clone": {"parameters": [SLUG], "post": operation(
            "A new monitor with every setting of this one (stored secrets too) under a new "
            "name; any other field given replaces the copied value", "write",
            {"201": with_etag(json_answer(ref("Monitor"), "The copy")), "404": NO_MONITOR},
            requestBody=request_body(clone))},
        "/api/v1/monitors/{slug}/report": {"parameters": [SLUG], "get": operation(
            "Uptime, p50/p95/p99, checks, failures and incidents over a window", "read",
            {"200": json_answer(report, "The report"), "404": NO_MONITOR,
             "422": problem_answer("A bad, reversed, future or too long range: `errors` "
                                   "names from or to")},
            parameters=WINDOW)},
        "/api/v1/groups": {"get": operation(
            "The groups, with their monitors counted per state", "read",
            {"200": json_answer(_array(model_schema(schemas, GroupCount)), "The groups")})},
        "/api/v1/tags": {"get": operation(
            "The tags, with how many monitors carry each", "read",
            {"200": json_answer(_array(model_schema(schemas, TagCount)), "The tags")})},
    }


def _channel_change(schemas: dict[str, Any]) -> dict[str, str]:
    """ChannelInput with no field required: a PATCH changes the fields given."""
    model_schema(schemas, ChannelInput)
    change = {k: v for k, v in schemas["ChannelInput"].items() if k != "required"}
    schemas["ChannelChange"] = {**change, "title": "ChannelChange",
                                "description": "The fields to change (settings key by key); "
                                               "the kind cannot change"}
    return ref("ChannelChange")


def _channel_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    channel = model_schema(schemas, Channel, mode="serialization")
    change = _channel_change(schemas)
    hours = model_schema(schemas, ChannelQuietHours, mode="serialization")
    new_hours = model_schema(schemas, QuietHours)
    sent = model_schema(schemas, TestSent, mode="serialization")
    return {
        "/api/v1/channels": {
            "get": operation("Every channel (secrets masked)", "admin",
                             {"200": json_answer(_array(channel), "The channels")}),
            "post": operation("Add a channel (checked as the Alerting page checks it)", "admin",
                              {"201": with_etag(json_answer(channel, "Added"))},
                              requestBody=request_body(ref("ChannelInput"))),
        },
        "/api/v1/channels/{id}": {
            "parameters": [CHANNEL_ID],
            "get": operation("One channel (secrets masked)", "admin",
                             {"200": with_etag(json_answer(channel, "The channel")),
                              "404": NO_CHANNEL}),
            "patch": operation("Change the fields given", "admin",
                               {"200": with_etag(json_answer(channel, "Changed")),
                                "404": NO_CHANNEL, "412": CHANGED},
                               requestBody=request_body(change), parameters=[IF_MATCH]),
            "delete": operation("Delete a channel", "admin",
                                {"204": {"description": "Deleted"}, "404": NO_CHANNEL,
                                 "409": FROM_ENV, "412": CHANGED}, parameters=[IF_MATCH]),
        },
        "/api/v1/channels/{id}/test": {"parameters": [CHANNEL_ID], "post": operation(
            "Send a test notice through it now", "admin",
            {"200": json_answer(sent, "Whether it went out, and the provider's words"),
             "404": NO_CHANNEL})},
        "/api/v1/channels/{id}/quiet-hours": {
            "parameters": [CHANNEL_ID],
            "get": operation("Its quiet hours", "admin",
                             {"200": with_etag(json_answer(hours, "The quiet hours")),
                              "404": NO_CHANNEL}),
            "put": operation("Replace its quiet hours", "admin",
                             {"200": with_etag(json_answer(hours, "Replaced")),
                              "404": NO_CHANNEL, "412": CHANGED},
                             requestBody=request_body(new_hours), parameters=[IF_MATCH]),
        },
        "/api/v1/alerting/quiet-hours": {"get": operation(
            "Every channel's quiet hours", "admin",
            {"200": json_answer(_array(hours), "The quiet hours")})},
    }


def _routing_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    shown = model_schema(schemas, MonitorRoutingShown, mode="serialization")
    wanted = model_schema(schemas, MonitorRouting)
    return {
        "/api/v1/alerting/routing": {"get": operation(
            "Every monitor's channels", "admin",
            {"200": json_answer(_array(shown), "The routing")})},
        "/api/v1/alerting/routing/{slug}": {
            "parameters": [SLUG],
            "get": operation("The channels a monitor pages", "admin",
                             {"200": with_etag(json_answer(shown, "Its routing")),
                              "404": NO_MONITOR}),
            "put": operation("Replace the channels a monitor pages (none: every enabled one)",
                             "admin", {"200": with_etag(json_answer(shown, "Replaced")),
                                       "404": NO_MONITOR, "412": CHANGED},
                             requestBody=request_body(wanted), parameters=[IF_MATCH]),
        },
    }


def admin_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    """The paths of these routes; their schemas are added to `schemas`."""
    return {**_monitor_paths(schemas), **_channel_paths(schemas), **_routing_paths(schemas)}
