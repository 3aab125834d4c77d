"""The sign-in gate of internal pages.

Signed in means: the session says so (tests set it), the browser sent the signed
`upwatch_session` cookie that /login sets (web/login), or, with single sign-on on (access/sso),
Streamlit's identity cookie names an address on UPWATCH_SSO_ALLOWED_EMAILS. Streamlit reads the
cookies from the websocket's request, so a sign-in holds across reloads, new tabs and followed
links; the password sign-in and every sign-out happen on /login and /logout, outside Streamlit.
"""

from __future__ import annotations

import html
import time
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.auth_util import get_secrets_auth_section

from access.passwords import admin_password_configured
from access.session_cookie import COOKIE_NAME, session_keys, verify_any
from access.sso import Verdict, allowed_emails, refusal, sso_enabled, verdict
from config.settings import get_settings
from domain.formatting import plain
from domain.links import LOGOUT_PATH, login_path
from storage.db import get_engine
from storage.key_source import secret_key

SESSION_KEY = "is_admin"


def _cookie() -> str:
    try:
        return st.context.cookies.get(COOKIE_NAME) or ""
    except Exception:  # no browser behind this run (a bare script run)
        return ""


def sso_on() -> bool:
    """Single sign-on is configured: the [auth] secrets and a non-empty allow-list."""
    return sso_enabled(get_settings(), get_secrets_auth_section())


def _sso_user() -> dict[str, object]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # no session behind this run (a bare script run)
        return {}


def sso_verdict() -> Verdict:
    if not sso_on():
        return Verdict.NOT_SIGNED_IN
    return verdict(_sso_user(), allowed_emails(get_settings().sso_allowed_emails))


def is_admin() -> bool:
    if st.session_state.get(SESSION_KEY):
        return True
    if sso_verdict() is Verdict.OPERATOR:
        return True
    value = _cookie()
    if not value or not admin_password_configured(get_settings()):
        return False
    keys = session_keys(secret_key(get_engine(), get_settings()))
    return verify_any(keys, value, time.time())


def current_path() -> str:
    """The page's path and query, as the browser shows them ("/incidents?id=3")."""
    url = st.context.url
    path = urlsplit(url).path if url else "/"
    query = urlencode(st.query_params.to_dict())
    return (path or "/") + (f"?{query}" if query else "")


def sign_in_link() -> str:
    """/login, returning to the current page."""
    return login_path(current_path())


def require_admin() -> None:
    """Stop the page with a way to sign in unless the visitor is signed in as an operator."""
    password = admin_password_configured(get_settings())
    sso = sso_on()
    if not password and not sso:
        st.title("Upwatch")
        st.warning(
            "The dashboard is locked because no admin password is set. "
            "Set the environment variable `UPWATCH_ADMIN_PASSWORD` (or put it in a `.env` file "
            "next to app.py) and restart Upwatch."
        )
        st.stop()
    if is_admin():
        return
    st.title("Upwatch — sign in required")
    if show_sso_refusal():
        st.stop()
    st.write("This page is for operators.")
    if password:
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
    one, where the sign-in would not reach this page's session). Both values are escaped."""
    st.markdown(f'<a href="{html.escape(path, quote=True)}" target="_self">{html.escape(text)}</a>',
                unsafe_allow_html=True)


def sign_out_link() -> None:
    """The sign-out link of a signed-in operator."""
    same_tab_link("Sign out", LOGOUT_PATH)
