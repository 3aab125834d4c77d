"""The operator's overview: tiles, every monitor in a sortable table, bulk actions, the add form."""

import streamlit as st

from domain.roles import Action
from storage.overview import overview_rows, overview_tiles
from ui.auth import may, require_role
from ui.monitor_form import render_add_monitor_form
from ui.overview import render_overview

require_role()  # every role sees it; editors and admins get the add form and bulk actions

st.title("Monitors")
render_overview(overview_rows, overview_tiles)
if may(Action.EDIT_MONITORS):
    render_add_monitor_form()
