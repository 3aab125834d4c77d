"""`/login` and `/logout`: the operator's sign-in, a plain HTML form that sets a signed cookie.

The form asks for a username and a password (storage/users). While UPWATCH_ADMIN_PASSWORD is
set the username field starts as "admin", and a form sent without one means "admin": signing in
with the admin password alone works as it did before there were users.

The cookie (`upwatch_session`, access/session_cookie) names the user and is HttpOnly,
SameSite=Lax, valid for 12 hours and Secure when the page was asked for over https; the Streamlit
pages read it from the websocket's request (ui/auth), so a sign-in survives reloads, new tabs and
followed links.
After signing in, the browser goes back to `next`: only a path on this site, never another host.
Under a base path (web/base_path) `next` is a site path, the redirects, links and the form's
address are under the base, and the cookie's Path is the base, as Streamlit's own cookie's is.
Wrong passwords (and unknown usernames) count per client address (access/lockout); the typed
username is never logged, as it may be a password typed into the wrong field.

With single sign-on on (access/sso), the page also offers "Sign in with single sign-on":
`/login/sso` starts Streamlit's `st.login` flow (its /auth/login, then the provider, then
/oauth2callback, which sets Streamlit's identity cookie and returns to `/`). /logout ends both
sign-ins: it deletes `upwatch_session` and, when Streamlit's identity cookie is there, hands over
to Streamlit's /auth/logout, which deletes that cookie and ends the provider's session too.
"""

from __future__ import annotations

import html
import logging
import time

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from streamlit.auth_util import get_secrets_auth_section
from streamlit.user_info import generate_login_redirect_url
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

from access.lockout import LOCKOUT, locked_message
from access.passwords import BOOTSTRAP_ADMIN, admin_password_configured
from access.session_cookie import (
    COOKIE_NAME,
    SESSION_TTL_S,
    cookie_path,
    issue,
    session_keys,
    username_of,
)
from access.sso import sso_enabled
from config.base_path import base_path, site_href
from config.settings import get_settings
from domain.links import LOGIN_PATH, LOGOUT_PATH, safe_next
from storage.db import get_engine
from storage.key_source import secret_key
from storage.users import role_of, sign_in, users_exist
from web.request_limits import client_address

log = logging.getLogger("upwatch")

MAX_FORM_FIELD_BYTES = 4096
SSO_LOGIN_PATH = f"{LOGIN_PATH}/sso"
STREAMLIT_LOGOUT_PATH = "/auth/logout"  # st.logout's route: deletes Streamlit's identity cookie


def cookie_keys() -> list[bytes]:
    """The cookie keys, from the secret that signs acknowledgement links (may read the database)."""
    return session_keys(secret_key(get_engine(), get_settings()))


def _signed_in(request: Request) -> bool:
    """Whether the request's cookie names a user who still exists."""
    value = request.cookies.get(COOKIE_NAME)
    username = username_of(cookie_keys(), value, time.time()) if value else None
    return username is not None and role_of(username) is not None


def _form_state() -> tuple[bool, str]:
    """Whether anyone can sign in with a password, and the username the form starts with."""
    bootstrap = admin_password_configured(get_settings())
    return bootstrap or users_exist(), BOOTSTRAP_ADMIN if bootstrap else ""


def _sso_on() -> bool:
    return sso_enabled(get_settings(), get_secrets_auth_section())


def _page(next_path: str, error: str = "", status: int = 200, *,
          passwords: tuple[bool, str]) -> HTMLResponse:
    """The sign-in page; `passwords` is what `_form_state` says (read off the event loop)."""
    message = f"<p role='alert' class='error'>{html.escape(error)}</p>" if error else ""
    sso = (f"<p><a href='{site_href(SSO_LOGIN_PATH)}'>Sign in with single sign-on</a></p>"
           if _sso_on() else "")
    open_to_passwords, username = passwords
    # The cursor starts in the first field still to fill.
    focus_name, focus_password = ("", " autofocus") if username else (" autofocus", "")
    if open_to_passwords:
        form = (
            f"<form method='post' action='{site_href(LOGIN_PATH)}'>"
            f"<input type='hidden' name='next' value='{html.escape(next_path, quote=True)}'>"
            "<p><label for='username'>Username</label><br>"
            "<input id='username' name='username' type='text' autocomplete='username'"
            f" autocapitalize='none' spellcheck='false' value='{html.escape(username, quote=True)}'"
            f" required{focus_name}></p>"
            "<p><label for='password'>Password</label><br>"
            "<input id='password' name='password' type='password' autocomplete='current-password'"
            f" required{focus_password}></p>"
            "<p><button type='submit'>Sign in</button></p></form>"
        )
    elif sso:
        form = ""
    else:
        form = ("<p>No admin password is set. Set the environment variable "
                "<code>UPWATCH_ADMIN_PASSWORD</code> and restart Upwatch, or add an admin with "
                "<code>upwatch user add NAME --role admin</code>.</p>")
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Sign in · Upwatch</title><meta name='viewport' content='width=device-width'>"
        "<style>body{font-family:sans-serif;max-width:24em;margin:3em auto;padding:0 1em}"
        "input{font-size:1em;padding:.3em;width:100%;box-sizing:border-box}"
        "button{font-size:1em;padding:.4em 1.2em}.error{color:#b00020}</style></head>"
        f"<body><h1>Sign in to Upwatch</h1>{message}{form}{sso}"
        f"<p><a href='{site_href('/status')}'>Status page</a></p></body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def login_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if await anyio.to_thread.run_sync(_signed_in, request):
        return RedirectResponse(site_href(next_path), status_code=303)
    return _page(next_path, passwords=await anyio.to_thread.run_sync(_form_state))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


async def login_post(request: Request) -> Response:
    client = client_address(request)
    passwords = await anyio.to_thread.run_sync(_form_state)
    until = LOCKOUT.locked_until(client)
    if until is not None:
        return _page("/", locked_message(until), 429, passwords=passwords)
    try:
        form = await request.form(max_files=0, max_fields=8, max_part_size=MAX_FORM_FIELD_BYTES)
    except (HTTPException, MultiPartException):
        return _page("/", "This sign-in request is too large or damaged.", 400, passwords=passwords)
    next_path = safe_next(_text(form.get("next")))
    typed = _text(form.get("username")).strip() or BOOTSTRAP_ADMIN
    password = _text(form.get("password"))
    username = await anyio.to_thread.run_sync(sign_in, typed, password)
    if username is None:
        until = LOCKOUT.failed(client)
        if until is not None:
            return _page(next_path, locked_message(until), 429, passwords=passwords)
        return _page(next_path, "Wrong username or password.", 401, passwords=passwords)
    LOCKOUT.succeeded(client)
    keys = await anyio.to_thread.run_sync(cookie_keys)
    log.info("sign-in: %s signed in from %s", username, client)
    response = RedirectResponse(site_href(next_path), status_code=303)
    response.set_cookie(COOKIE_NAME, issue(keys[0], time.time(), SESSION_TTL_S, username),
                        max_age=SESSION_TTL_S, path=cookie_path(base_path()), httponly=True,
                        samesite="lax",
                        secure=request.url.scheme == "https")
    response.headers["Cache-Control"] = "no-store"
    return response


async def sso_login(request: Request) -> Response:
    """Where st.login() would send the browser: Streamlit's /auth/login with a fresh token."""
    if not await anyio.to_thread.run_sync(_sso_on):
        return RedirectResponse(site_href(LOGIN_PATH), status_code=303)
    response = RedirectResponse(generate_login_redirect_url("default"), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


async def logout(request: Request) -> Response:
    signed_in_by_sso = USER_COOKIE_NAME in request.cookies
    response = RedirectResponse(site_href(STREAMLIT_LOGOUT_PATH if signed_in_by_sso else "/"),
                                status_code=303)
    response.delete_cookie(COOKIE_NAME, path=cookie_path(base_path()), httponly=True,
                           samesite="lax",
                           secure=request.url.scheme == "https")
    response.headers["Cache-Control"] = "no-store"
    return response


def login_routes() -> list[Route]:
    return [
        Route(LOGIN_PATH, login_page, methods=["GET"]),
        Route(LOGIN_PATH, login_post, methods=["POST"]),
        Route(SSO_LOGIN_PATH, sso_login, methods=["GET"]),
        Route(LOGOUT_PATH, logout, methods=["GET", "POST"]),
    ]
