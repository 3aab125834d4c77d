"""Maintenance windows: plan one-off and recurring windows, see what is coming, delete."""

from ui.auth import require_role

require_role()  # every role sees it

import streamlit as st  # noqa: E402

from domain.roles import Action  # noqa: E402
from ui.auth import may  # noqa: E402
from ui.maintenance_views import render_upcoming, render_window_form, render_windows  # noqa: E402

st.title("Maintenance")
render_upcoming()
render_windows()
if may(Action.EDIT_MAINTENANCE):
    render_window_form()
