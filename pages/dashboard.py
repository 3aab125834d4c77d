"""The operator's overview: tiles, every monitor in a sortable table, bulk actions, the add form."""

import streamlit as st

from storage.overview import overview_rows, overview_tiles
from ui.auth import require_admin
from ui.monitor_form import render_add_monitor_form
from ui.overview import render_overview

require_admin()

st.title("Monitors")
render_overview(overview_rows, overview_tiles)
render_add_monitor_form()
