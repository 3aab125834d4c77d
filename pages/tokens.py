"""API tokens: named, scoped, expiring, revocable."""

from ui.auth import require_admin

require_admin()

import streamlit as st  # noqa: E402

from ui.token_admin import render_token_admin  # noqa: E402

st.title("API tokens")
render_token_admin()
