"""The Streamlit router: the public status page, and the dashboard behind the operator sign-in.

A visitor who is not signed in gets the status page at `/` (with an "Operator sign-in" link) and
no menu; a signed-in operator (any role) gets the dashboard at `/` and the menu, which lists
Alerting, API tokens, Users and Configuration to admins only (others opening them are told they
are for admins). Every other address (/status, /monitor, /incidents, ...) is the same page for both:
internal pages ask a visitor to sign in (ui/auth). Someone signed in by single sign-on but not on
a list is told so above the status page, with a sign-out, instead of the sign-in link.
"""

import streamlit as st

from domain.formatting import plain
from domain.roles import ADMIN
from ui.auth import current_operator, same_tab_link, show_sso_refusal, sign_in_link, sign_out_link
from web.page_shell import STATUS_URL_PATH

st.set_page_config(page_title="Upwatch", page_icon="📈", layout="wide")

signed_in = current_operator()
operator = signed_in is not None
admin_menu = "visible" if signed_in is not None and signed_in.role == ADMIN else "hidden"
# The visitors' home is the status page under another internal name: /status stays its own page.
home = (st.Page("pages/dashboard.py", title="Dashboard", icon="📋", default=True) if operator
        else st.Page("pages/status.py", title="Status page", icon="🟢", url_path="home",
                     default=True))
pages = [
    home,
    st.Page("pages/monitor.py", title="Monitor", icon="🔎", url_path="monitor"),
    st.Page("pages/status.py", title="Status page", icon="🟢", url_path=STATUS_URL_PATH),
    st.Page("pages/alerting_page.py", title="Alerting", icon="🔔", url_path="alerting",
            visibility=admin_menu),
    st.Page("pages/maintenance.py", title="Maintenance", icon="🔧", url_path="maintenance"),
    st.Page("pages/incidents.py", title="Incidents", icon="📣", url_path="incidents"),
    st.Page("pages/badges.py", title="Badges & layout", icon="🏷️", url_path="badges"),
    st.Page("pages/reports.py", title="Reports", icon="📄", url_path="reports"),
    st.Page("pages/audit.py", title="Audit log", icon="🧾", url_path="audit"),
    st.Page("pages/tokens.py", title="API tokens", icon="🔑", url_path="tokens",
            visibility=admin_menu),
    st.Page("pages/users.py", title="Users", icon="👥", url_path="users", visibility=admin_menu),
    st.Page("pages/configuration.py", title="Configuration", icon="🗂️", url_path="configuration",
            visibility=admin_menu),
]
# Visitors only ever need the status page; the menu is for operators.
page = st.navigation(pages, position="sidebar" if operator else "hidden")
if signed_in is not None:
    with st.sidebar:
        st.caption(f"Signed in as {plain(signed_in.name)} ({signed_in.role})")
        sign_out_link()
public = not operator and page.url_path in ("", STATUS_URL_PATH)
refused = public and show_sso_refusal()
page.run()
if public and not refused:
    same_tab_link("Operator sign-in", sign_in_link())
