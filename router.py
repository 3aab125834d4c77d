"""The Streamlit router: the public status page, and the dashboard behind the operator sign-in.

A visitor who is not signed in gets the status page at `/` (with an "Operator sign-in" link) and
no menu; a signed-in operator gets the dashboard at `/` and the menu. Every other address
(/status, /monitor, /incidents, ...) is the same page for both: internal pages ask a visitor to
sign in (ui/auth). Someone signed in by single sign-on but not on the allow-list is told so above
the status page, with a sign-out, instead of the sign-in link.
"""

import streamlit as st

from ui.auth import is_admin, same_tab_link, show_sso_refusal, sign_in_link, sign_out_link
from web.page_shell import STATUS_URL_PATH

st.set_page_config(page_title="Upwatch", page_icon="📈", layout="wide")

operator = is_admin()
# The visitors' home is the status page under another internal name: /status stays its own page.
home = (st.Page("pages/dashboard.py", title="Dashboard", icon="📋", default=True) if operator
        else st.Page("pages/status.py", title="Status page", icon="🟢", url_path="home",
                     default=True))
pages = [
    home,
    st.Page("pages/monitor.py", title="Monitor", icon="🔎", url_path="monitor"),
    st.Page("pages/status.py", title="Status page", icon="🟢", url_path=STATUS_URL_PATH),
    st.Page("pages/alerting.py", title="Alerting", icon="🔔", url_path="alerting"),
    st.Page("pages/maintenance.py", title="Maintenance", icon="🔧", url_path="maintenance"),
    st.Page("pages/incidents.py", title="Incidents", icon="📣", url_path="incidents"),
    st.Page("pages/badges.py", title="Badges & layout", icon="🏷️", url_path="badges"),
    st.Page("pages/reports.py", title="Reports", icon="📄", url_path="reports"),
    st.Page("pages/audit.py", title="Audit log", icon="🧾", url_path="audit"),
    st.Page("pages/tokens.py", title="API tokens", icon="🔑", url_path="tokens"),
]
# Visitors only ever need the status page; the menu is for operators.
page = st.navigation(pages, position="sidebar" if operator else "hidden")
if operator:
    with st.sidebar:
        sign_out_link()
public = not operator and page.url_path in ("", STATUS_URL_PATH)
refused = public and show_sso_refusal()
page.run()
if public and not refused:
    same_tab_link("Operator sign-in", sign_in_link())
