"""The API's OpenAPI document is valid OpenAPI 3.1, served without a token, and describes
every /api/v1 route with each of its methods."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from web.openapi import openapi_document


def test_the_document_is_valid_openapi() -> None:
    validate(openapi_document())


def test_every_api_route_and_method_is_described() -> None:
    routes = build_routes(Runtime())
    described = openapi_document()["paths"]
    missing = []
    for route in routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", getattr(route, "path", ""))
        if not path.startswith("/api/v1/") or path == "/api/v1/{rest}":  # the 404 fallback
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD"}):
            if method.lower() not in described.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_it_is_served_and_takes_its_request_schema_from_the_validating_model() -> None:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    monitor_input = served.json()["components"]["schemas"]["MonitorInput"]
    assert {"name", "url", "severity", "depends_on", "tags"} <= set(monitor_input["properties"])
    assert served.json()["paths"]["/api/v1/monitors"]["post"]["security"] == [{"bearer": []}]


def test_every_error_answer_is_a_problem_and_updates_take_if_match() -> None:
    document = openapi_document()
    not_problems = [
        f"{status} {method} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items() if method != "parameters"
        for status, answer in operation["responses"].items()
        if status.startswith("4") and answer.get("content", {}).get(
            "application/problem+json", {}).get("schema") != {
                "$ref": "#/components/schemas/Problem"}]
    assert not_problems == []
    assert {"type", "title", "status", "detail", "errors"} <= set(
        document["components"]["schemas"]["Problem"]["properties"])
    one = document["paths"]["/api/v1/monitors/{slug}"]
    assert "ETag" in one["get"]["responses"]["200"]["headers"]
    for method in ("patch", "delete"):
        assert [p["name"] for p in one[method]["parameters"]] == ["If-Match"]
        assert "412" in one[method]["responses"]
