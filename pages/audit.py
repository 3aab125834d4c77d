"""The audit log: every change made through the dashboard or the API, who made it and when."""

from ui.auth import require_role

require_role()  # every role sees it

import streamlit as st  # noqa: E402

from ui.audit_view import render_audit_log  # noqa: E402

st.title("Audit log")
render_audit_log()
