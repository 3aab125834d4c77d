"""The OpenAPI part for users and API tokens and the docs page, and the Idempotency-Key header
of creates."""

from __future__ import annotations

from typing import Any

from domain.idempotency import HEADER, MAX_KEY_CHARS
from domain.roles import ROLES
from domain.tokens import SCOPES
from storage.api_tokens import MAX_EXPIRY_DAYS
from storage.users import MAX_USERNAME_CHARS
from web.openapi_parts import NOT_FOUND, json_answer, operation, problem_answer, ref, request_body

# The creates that honour Idempotency-Key (web/idempotency wraps each of their routes).
IDEMPOTENT_CREATES = ("/api/v1/monitors", "/api/v1/maintenance", "/api/v1/incidents",
                      "/api/v1/incidents/{id}/updates", "/api/v1/users", "/api/v1/tokens",
                      "/api/v1/channels", "/api/v1/monitors/{slug}/clone")
IDEMPOTENCY_KEY = {
    "name": HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
    "description": "Any unique value (a UUID): the same key sent again with the same body "
                   "answers the first answer (header Idempotent-Replayed: true) and makes "
                   "nothing twice; with another body or route it is a 422. Kept 24 hours, per "
                   "token; a refused create frees its key."}
STILL_RUNNING = problem_answer("The first request with this Idempotency-Key has not answered "
                               "yet; nothing was done")
TEXT = {"type": "string"}
WHEN = {"type": ["string", "null"], "format": "date-time"}


def _schemas() -> dict[str, Any]:
    role = {"type": "string", "enum": list(ROLES)}
    scope = {"type": "string", "enum": list(SCOPES)}
    token = {"id": {"type": "integer"}, "name": TEXT, "scope": scope,
             "prefix": {**TEXT, "description": "The token's first characters"},
             "created_at": WHEN, "expires_at": WHEN, "revoked_at": WHEN, "last_used_at": WHEN,
             "active": {"type": "boolean"}}
    return {
        "User": {"type": "object", "properties": {
            "username": TEXT, "role": role, "created_at": WHEN, "last_sign_in_at": WHEN,
            "password_from_settings": {
                "type": "boolean", "description": "Signs in with UPWATCH_ADMIN_PASSWORD"}}},
        "UserInput": {"type": "object", "additionalProperties": False,
                      "required": ["username", "role", "password"], "properties": {
                          "username": {**TEXT, "maxLength": MAX_USERNAME_CHARS},
                          "role": role, "password": {**TEXT, "writeOnly": True}}},
        "UserChange": {"type": "object", "additionalProperties": False,
                       "description": "A role, a password or both (checked together)",
                       "properties": {"role": role, "password": {**TEXT, "writeOnly": True}}},
        "Token": {"type": "object", "properties": token},
        "NewToken": {"type": "object", "properties": {
            **token, "token": {"type": ["string", "null"],
                               "description": "The token: shown in this answer only (null "
                                              "in a replay)"}}},
        "TokenInput": {"type": "object", "additionalProperties": False, "required": ["name",
                                                                                     "scope"],
                       "properties": {"name": {**TEXT, "maxLength": 100}, "scope": scope,
                                      "expires_in_days": {
                                          "type": ["integer", "null"], "minimum": 1,
                                          "maximum": MAX_EXPIRY_DAYS}}},
    }


def access_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    """The paths of the users and tokens routes and the docs page; their schemas are added to
    `schemas`."""
    schemas.update(_schemas())
    user, token = ref("User"), ref("Token")
    username = {"name": "username", "in": "path", "required": True, "schema": TEXT}
    token_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/api/v1/users": {
            "get": operation("Dashboard users", "admin", {
                "200": json_answer({"type": "array", "items": user}, "The users")}),
            "post": operation("Add a user", "admin", {"201": json_answer(user, "Added")},
                              requestBody=request_body(ref("UserInput"))),
        },
        "/api/v1/users/{username}": {
            "parameters": [username],
            "get": operation("One user", "admin",
                             {"200": json_answer(user, "The user"), "404": NOT_FOUND}),
            "patch": operation("Change a user's role or password (not the last admin's role)",
                               "admin", {"200": json_answer(user, "Changed"),
                                         "404": NOT_FOUND},
                               requestBody=request_body(ref("UserChange"))),
            "delete": operation("Remove a user (not the last admin)", "admin", {
                "204": {"description": "Removed"}, "404": NOT_FOUND,
                "422": problem_answer("The last admin; nothing changed")}),
        },
        "/api/v1/tokens": {
            "get": operation("API tokens (never the token itself)", "admin", {
                "200": json_answer({"type": "array", "items": token}, "The tokens")}),
            "post": operation("Make a token: the answer holds it, shown this once", "admin",
                              {"201": json_answer(ref("NewToken"), "Made")},
                              requestBody=request_body(ref("TokenInput"))),
        },
        "/api/v1/tokens/{id}": {
            "parameters": [token_id],
            "delete": operation("Revoke a token", "admin", {
                "204": {"description": "Revoked"}, "404": NOT_FOUND}),
        },
        "/api/v1/docs": {"get": operation("This API's documentation, as a page", None, {
            "200": {"description": "HTML", "content": {"text/html": {"schema": TEXT}}}})},
    }


def with_idempotency(paths: dict[str, Any]) -> dict[str, Any]:
    """The paths with the Idempotency-Key header described on every create."""
    described = dict(paths)
    for path in IDEMPOTENT_CREATES:
        if "post" not in described.get(path, {}):
            continue
        create = described[path]["post"]
        described[path] = {**described[path], "post": {
            **create, "parameters": [*create.get("parameters", []), IDEMPOTENCY_KEY],
            "responses": {**create["responses"], "409": STILL_RUNNING}}}
    return described
