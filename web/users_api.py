"""Dashboard users over REST (admin scope), through storage/users: each change is one
transaction, audited as the token's, as the Users page's are.

    GET, POST /api/v1/users · GET, PATCH, DELETE /api/v1/users/{username}

A PATCH changes the role, the password or both (both checked before either is written); the
last admin can be neither demoted nor removed. Passwords go in and never come out.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from access.passwords import password_problem
from domain.limits import InvalidInput
from domain.roles import ROLES
from storage.users import (
    UserView,
    add_user,
    clean_username,
    list_users,
    remove_user,
    set_password,
    set_role,
)
from web.idempotency import idempotent
from web.problems import not_found
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.write_refusals import WRITE_REFUSALS, refused

NO_USER = "no user has this username"
USER_FIELDS = ("username", "role", "password")


def shown(user: UserView) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment else None

    return {"username": user.username, "role": user.role, "created_at": iso(user.created_at),
            "last_sign_in_at": iso(user.last_sign_in_at),
            "password_from_settings": user.password_from_settings}


def _find(username: str) -> UserView | None:
    try:
        name = clean_username(username)
    except InvalidInput:
        return None
    return next((user for user in list_users() if user.username == name), None)


def _fields(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, str]:
    """The body's text fields, or InvalidInput naming each unknown or non-text one."""
    errors = {field: "unknown field" for field in body if field not in allowed}
    errors |= {field: "enter text" for field in allowed
               if field in body and not isinstance(body[field], str)}
    if errors:
        raise InvalidInput(errors)
    return dict(body)


def _change(username: str, changes: dict[str, str], actor: str) -> None:
    """Role and password checked together first, so a refused change writes neither."""
    errors: dict[str, str] = {}
    if not changes:
        errors["body"] = "send a role, a password or both"
    if "role" in changes and changes["role"] not in ROLES:
        errors["role"] = f"choose one of {', '.join(ROLES)}"
    if "password" in changes and (why := password_problem(changes["password"])):
        errors["password"] = why
    if errors:
        raise InvalidInput(errors)
    if "role" in changes:
        set_role(username, changes["role"], actor=actor)
    if "password" in changes:
        set_password(username, changes["password"], actor=actor)


def user_routes(limits: TokenBuckets) -> list[Route]:
    async def list_or_add(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        if request.method == "GET":
            return JSONResponse([shown(user) for user in await run_sync(list_users)])
        try:
            body = _fields(await json_body(request), USER_FIELDS)
            user = await run_sync(partial(
                add_user, body.get("username", ""), body.get("role", ""),
                body.get("password", ""), actor=actor_of(grant)))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        return JSONResponse(shown(user), status_code=201)

    async def one(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        user = await run_sync(_find, request.path_params["username"])
        if user is None:
            return not_found(NO_USER)
        if request.method == "GET":
            return JSONResponse(shown(user))
        try:
            if request.method == "DELETE":
                await run_sync(partial(remove_user, user.username, actor=actor_of(grant)))
                return Response(status_code=204)
            changes = _fields(await json_body(request), ("role", "password"))
            await run_sync(_change, user.username, changes, actor_of(grant))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        changed = await run_sync(_find, user.username)
        return JSONResponse(shown(changed)) if changed else not_found(NO_USER)

    return [
        Route("/api/v1/users", limited(idempotent(list_or_add), limits),
              methods=["GET", "POST"]),
        Route("/api/v1/users/{username:str}", limited(one, limits),
              methods=["GET", "PATCH", "DELETE"]),
    ]
