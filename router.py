"""The Streamlit router: the public status page, and the dashboard behind the admin login."""

import streamlit as st

from ui.auth import is_admin

st.set_page_config(page_title="Upwatch", page_icon="📈", layout="wide")

pages = [
    st.Page("pages/dashboard.py", title="Dashboard", icon="📋", default=True),
    st.Page("pages/status.py", title="Status page", icon="🟢", url_path="status"),
]
# Visitors only ever need the status page; the menu is for operators.
st.navigation(pages, position="sidebar" if is_admin() else "hidden").run()
