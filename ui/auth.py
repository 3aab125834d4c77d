"""The login gate of internal pages."""

import streamlit as st

from access.passwords import admin_password_configured, password_matches
from config.settings import get_settings

SESSION_KEY = "is_admin"


def is_admin() -> bool:
    return bool(st.session_state.get(SESSION_KEY))


def _try_login() -> None:
    if password_matches(st.session_state.get("login_password", ""), get_settings()):
        st.session_state[SESSION_KEY] = True
        st.session_state.pop("login_error", None)
    else:
        st.session_state["login_error"] = "Wrong password."


def require_admin() -> None:
    """Show the login form and stop the page unless the visitor is logged in as admin."""
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
    st.title("Upwatch — log in")
    with st.form("login"):
        st.text_input("Admin password", type="password", key="login_password")
        st.form_submit_button("Log in", on_click=_try_login)
    if "login_error" in st.session_state:
        st.error(st.session_state["login_error"])
    st.stop()
