"""The building blocks of the OpenAPI document (web/openapi and its parts share them): an
operation with the errors every route may answer, JSON and Problem answers, ETag and If-Match,
and pydantic models' JSON schemas as components."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from web.problems import PROBLEM_JSON

REF = "#/components/schemas/{model}"
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def schema_with_defs(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    schemas.update(schema.pop("$defs", {}))
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problem_answer(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {
        PROBLEM_JSON: {"schema": ref("Problem")}}}
    if headers:
        answer["headers"] = headers
    return answer


ETAG_HEADER = {"ETag": {"description": "The ETag to send back as If-Match",
                        "schema": {"type": "string"}}}
ERRORS = problem_answer("Bad input: `errors` names each wrong field; nothing was saved")
UNAUTHORIZED = problem_answer("No valid token",
                              **{"WWW-Authenticate": {"schema": {"type": "string"}}})
FORBIDDEN = problem_answer("The token's scope is too small")
NOT_FOUND = problem_answer("No such monitor, window or incident (or one the caller may not see)")
TOO_LARGE = problem_answer("The body is larger than 64 KB; nothing was read")
TOO_MANY = problem_answer("Past the client's rate limit; nothing was done",
                          **{"Retry-After": {"schema": {"type": "integer"}}})
CHANGED = problem_answer(
    "If-Match no longer holds: `current_etag` is the ETag now; nothing changed", **ETAG_HEADER)
CONFLICT = problem_answer("Already acknowledged, or resolved; nothing changed")
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string"},
            "description": "The ETag read: the write is done only while it still holds"}


def operation(summary: str, scope: str | None, responses: dict[str, Any], **extra: Any
              ) -> dict[str, Any]:
    """One operation: its answers, and those every route may give (429; 401 and 403 with a
    scope; 413 and 422 with a body)."""
    described = f"{summary}." + (f" Needs a token with the {scope} scope." if scope else "")
    made: dict[str, Any] = {"summary": summary, "description": described, **extra}
    made["responses"] = {**responses, "429": TOO_MANY}
    if scope:
        made["security"] = BEARER
        made["responses"] |= {"401": UNAUTHORIZED, "403": FORBIDDEN}
    if "requestBody" in extra:
        made["responses"] |= {"413": TOO_LARGE, "422": ERRORS}
    return made


def with_etag(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "headers": ETAG_HEADER}


def request_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def model_schema(schemas: dict[str, Any], model: type[BaseModel], name: str | None = None,
                 mode: str = "validation") -> dict[str, str]:
    """`model`'s JSON schema added to the components (its nested models too); its $ref."""
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    schemas[name or model.__name__] = schema_with_defs(schema, schemas)
    return ref(name or model.__name__)
