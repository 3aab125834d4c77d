"""Maintenance windows: plan one-off and recurring windows, see what is coming, delete."""

from ui.auth import require_admin

require_admin()

import streamlit as st  # noqa: E402

from ui.maintenance_views import render_upcoming, render_window_form, render_windows  # noqa: E402

st.title("Maintenance")
render_upcoming()
render_windows()
render_window_form()
