"""Users: who signs in to the dashboard, with which role (admins only)."""

from domain.roles import ADMIN
from ui.auth import require_role

require_role(ADMIN)

import streamlit as st  # noqa: E402

from ui.user_admin import render_user_admin  # noqa: E402

st.title("Users")
render_user_admin()
