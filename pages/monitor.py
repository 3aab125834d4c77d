"""One monitor up close, at its own address: /monitor?slug=<slug>."""

from ui.auth import require_admin

require_admin()

import streamlit as st  # noqa: E402

st.title("Monitor")
