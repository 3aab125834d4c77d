"""The sign-in gate of internal pages, and what the signed-in operator may do.

Signed in means: the browser sent the signed `upwatch_session` cookie that /login sets (web/login)
naming a user who still exists, or, with single sign-on on (access/sso), Streamlit's identity
cookie names an address on one of the lists; or the session says so (tests set SESSION_KEY for
the bootstrap admin, or SIGNED_IN_AS_KEY for a username, whose role is then read as a cookie's).
Streamlit reads the cookies from the websocket's request, so a sign-in holds across reloads, new
tabs and followed links; the password sign-in and every sign-out happen on /login and /logout,
outside Streamlit.

The role (domain/roles) is looked up on every script run, never kept in the cookie: a removed
user or a changed role counts on the next run. Each page calls `require_role` at its top; a
button is drawn only when `may(action)`; and a write a page calls re-checks with
`permitted(action)`, so a hidden button is never the only guard.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.auth_util import get_secrets_auth_section

from access.passwords import BOOTSTRAP_ADMIN
from access.session_cookie import COOKIE_NAME, session_keys, username_of
from access.sso import (
    Verdict,
    refusal,
    sso_email,
    sso_enabled,
    sso_role,
    sso_roles,
    verdict,
)
from config.base_path import base_path, site_href
from config.settings import get_settings
from domain.formatting import plain
from domain.links import LOGOUT_PATH, below_base, login_path
from domain.roles import ADMIN, NEEDS, VIEWER, Action, a_role, at_least
from domain.roles import may as role_may
from storage.audit import DASHBOARD_ADMIN
from storage.db import get_engine
from storage.key_source import secret_key
from storage.users import role_of, users_exist

log = logging.getLogger("upwatch")

SESSION_KEY = "is_admin"  # tests: signed in as the bootstrap admin
SIGNED_IN_AS_KEY = "signed_in_as"  # tests: signed in as this username
COOKIE_TTL_S = 2.0  # a checked cookie's username is kept this long (each check reads the key)


@dataclass(frozen=True, slots=True)
class Operator:
    name: str  # the username, or the single sign-on e-mail
    role: str


def _cookie() -> str:
    try:
        return st.context.cookies.get(COOKIE_NAME) or ""
    except Exception:  # no browser behind this run (a bare script run)
        return ""


def sso_on() -> bool:
    """Single sign-on is configured: the [auth] secrets and at least one address listed."""
    return sso_enabled(get_settings(), get_secrets_auth_section())


def _sso_user() -> dict[str, object]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # no session behind this run (a bare script run)
        return {}


def sso_verdict() -> Verdict:
    if not sso_on():
        return Verdict.NOT_SIGNED_IN
    return verdict(_sso_user(), sso_roles(get_settings()).everyone)


_checked: dict[str, tuple[float, str | None]] = {}
_checked_lock = threading.Lock()


def _cookie_username(value: str) -> str | None:
    """The username a valid cookie names (kept COOKIE_TTL_S: a page asks several times a run)."""
    now = time.monotonic()
    with _checked_lock:
        known = _checked.get(value)
        if known is not None and now - known[0] < COOKIE_TTL_S:
            return known[1]
    keys = session_keys(secret_key(get_engine(), get_settings()))
    username = username_of(keys, value, time.time())
    with _checked_lock:
        if len(_checked) > 1000:
            _checked.clear()
        _checked[value] = (now, username)
    return username


def current_operator() -> Operator | None:
    """Who is signed in, with the role they have now; None for a visitor."""
    if st.session_state.get(SESSION_KEY):
        return Operator(BOOTSTRAP_ADMIN, ADMIN)
    tested = st.session_state.get(SIGNED_IN_AS_KEY)
    if isinstance(tested, str):
        role = role_of(tested)
        return Operator(tested, role) if role else None
    if sso_on():
        user = _sso_user()
        role = sso_role(user, sso_roles(get_settings()))
        if role is not None:
            return Operator(sso_email(user), role)
    value = _cookie()
    username = _cookie_username(value) if value else None
    role = role_of(username) if username else None
    return Operator(username, role) if username and role else None


def current_role() -> str | None:
    operator = current_operator()
    return operator.role if operator else None


def signed_in() -> bool:
    return current_operator() is not None


def is_admin() -> bool:
    return current_role() == ADMIN


def may(action: Action) -> bool:
    """Whether the signed-in operator may do `action` (to draw its buttons or not)."""
    return role_may(current_role(), action)


def permitted(action: Action) -> bool:
    """The check a write makes before it acts: whether the operator may do `action`; when not,
    says so on the page (and in the log) and the write does nothing."""
    operator = current_operator()
    if operator is not None and role_may(operator.role, action):
        return True
    who = f"{operator.name} ({operator.role})" if operator else "a visitor"
    log.warning("refused: %s may not %s", who, action.value)
    st.error(f"Not done: to {action.value} you need the {NEEDS[action]} role"
             + (f"; you are signed in as {plain(operator.name)}, {a_role(operator.role)}."
                if operator else "; sign in first."))
    return False


def dashboard_actor() -> str:
    """Who an audit entry names: the signed-in username, or the single sign-on e-mail."""
    try:
        operator = current_operator()
    except Exception:  # no session behind this run (a bare script run)
        operator = None
    return operator.name if operator else DASHBOARD_ADMIN


def current_path() -> str:
    """The page's site path and query ("/incidents?id=3"), as the browser shows them below the
    base path the app is served under."""
    url = st.context.url
    path = below_base(base_path(), urlsplit(url).path if url else "/")
    query = urlencode(st.query_params.to_dict())
    return (path or "/") + (f"?{query}" if query else "")


def sign_in_link() -> str:
    """/login, returning to the current page."""
    return login_path(current_path())


def require_role(needed: str = VIEWER) -> Operator:
    """Stop the page unless the visitor is signed in with `needed` or a higher role: a way to
    sign in for a visitor, a clear refusal for a lower role. The operator otherwise."""
    operator = current_operator()
    if operator is not None:
        if at_least(operator.role, needed):
            return operator
        st.title("Upwatch")
        st.warning(f"This page is for {needed}s only. You are signed in as "
                   f"{plain(operator.name)}, {a_role(operator.role)}: ask an admin if you need "
                   "more.")
        sign_out_link()
        st.stop()
    passwords = users_exist()
    sso = sso_on()
    if not passwords and not sso:
        st.title("Upwatch")
        st.warning(
            "The dashboard is locked because no admin password is set. "
            "Set the environment variable `UPWATCH_ADMIN_PASSWORD` (or put it in a `.env` file "
            "next to app.py) and restart Upwatch, or add an admin with "
            "`upwatch user add NAME --role admin`."
        )
        st.stop()
    st.title("Upwatch — sign in required")
    if show_sso_refusal():
        st.stop()
    st.write("This page is for operators.")
    if passwords:
        same_tab_link("Sign in", sign_in_link())
    if sso:
        sso_button()
    st.stop()


def sso_button() -> None:
    """The button that starts the single sign-on (Streamlit's st.login, the [auth] provider)."""
    if st.button("Sign in with single sign-on"):
        st.login()


def show_sso_refusal() -> bool:
    """For an identity signed in by single sign-on but not allowed: say why, offer a sign-out.
    Whether it was shown."""
    if sso_verdict() is not Verdict.REFUSED:
        return False
    st.error(plain(refusal(_sso_user())))  # the address comes from the provider
    sign_out_link()
    return True


def same_tab_link(text: str, path: str) -> None:
    """A link to a path on this site that opens in this tab (Streamlit's own links open a new
    one, where the sign-in would not reach this page's session). `path` is a site path: the link
    is under the base path. Both values are escaped."""
    st.markdown(f'<a href="{html.escape(site_href(path), quote=True)}" target="_self">'
                f'{html.escape(text)}</a>', unsafe_allow_html=True)


def sign_out_link() -> None:
    """The sign-out link of a signed-in operator."""
    same_tab_link("Sign out", LOGOUT_PATH)
