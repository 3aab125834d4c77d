"""The Streamlit router: the public status page, and the dashboard behind the admin login."""

import streamlit as st

from ui.auth import is_admin
from web.page_shell import STATUS_URL_PATH

st.set_page_config(page_title="Upwatch", page_icon="📈", layout="wide")

pages = [
    st.Page("pages/dashboard.py", title="Dashboard", icon="📋", default=True),
    st.Page("pages/monitor.py", title="Monitor", icon="🔎", url_path="monitor"),
    st.Page("pages/status.py", title="Status page", icon="🟢", url_path=STATUS_URL_PATH),
    st.Page("pages/alerting.py", title="Alerting", icon="🔔", url_path="alerting"),
    st.Page("pages/maintenance.py", title="Maintenance", icon="🔧", url_path="maintenance"),
    st.Page("pages/incidents.py", title="Incidents", icon="📣", url_path="incidents"),
    st.Page("pages/badges.py", title="Badges & layout", icon="🏷️", url_path="badges"),
    st.Page("pages/reports.py", title="Reports", icon="📄", url_path="reports"),
]
# Visitors only ever need the status page; the menu is for operators.
st.navigation(pages, position="sidebar" if is_admin() else "hidden").run()
