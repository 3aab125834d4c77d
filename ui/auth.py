"""The sign-in gate of internal pages.

Signed in means: the session says so (tests set it), or the browser sent the signed
`upwatch_session` cookie that /login sets (web/login). Streamlit reads the cookies from the
websocket's request, so a sign-in holds across reloads, new tabs and followed links; signing in
and out happen on /login and /logout, outside Streamlit.
"""

from __future__ import annotations

import html
import time
from urllib.parse import urlencode, urlsplit

import streamlit as st

from access.passwords import admin_password_configured
from access.session_cookie import COOKIE_NAME, session_keys, verify_any
from config.settings import get_settings
from domain.links import LOGOUT_PATH, login_path
from storage.db import get_engine
from storage.key_source import secret_key

SESSION_KEY = "is_admin"


def _cookie() -> str:
    try:
        return st.context.cookies.get(COOKIE_NAME) or ""
    except Exception:  # no browser behind this run (a bare script run)
        return ""


def is_admin() -> bool:
    if st.session_state.get(SESSION_KEY):
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
    """Stop the page with a link to sign in unless the visitor is signed in as an operator."""
    if not admin_password_configured(get_settings()):
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
    st.write("This page is for operators.")
    same_tab_link("Sign in", sign_in_link())
    st.stop()


def same_tab_link(text: str, path: str) -> None:
    """A link to a path on this site that opens in this tab (Streamlit's own links open a new
    one, where the sign-in would not reach this page's session). Both values are escaped."""
    st.markdown(f'<a href="{html.escape(path, quote=True)}" target="_self">{html.escape(text)}</a>',
                unsafe_allow_html=True)


def sign_out_link() -> None:
    """The sign-out link of a signed-in operator."""
    same_tab_link("Sign out", LOGOUT_PATH)
