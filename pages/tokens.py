"""API tokens: named, scoped, expiring, revocable."""

from domain.roles import ADMIN
from ui.auth import require_role

require_role(ADMIN)  # editors and viewers are told it is for admins only

import streamlit as st  # noqa: E402

from ui.token_admin import render_token_admin  # noqa: E402

st.title("API tokens")
render_token_admin()
