"""The public status page: public monitors only, no URLs, hosts or error text."""

import streamlit as st

from ui import status_view
from ui.status_data import REFRESH_S, current_page

status_view.header()


@st.fragment(run_every=REFRESH_S)
def status_panel() -> None:
    page = current_page()
    status = page.status
    status_view.banner(status)
    status_view.active_incidents(status)
    status_view.maintenance(status.maintenance)
    status_view.components(status, page.board)
    status_view.history(status)
    status_view.footer(status)


status_panel()
