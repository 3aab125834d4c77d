"""Alerting: channels (with a test button), per-monitor routing, escalation (reminders, flapping,
steps per severity, the hourly digest), open incidents, deliveries."""

from domain.roles import ADMIN
from ui.auth import require_role

require_role(ADMIN)  # editors and viewers are told it is for admins only

import streamlit as st  # noqa: E402

from ui.alerting_channels import render_channel_form, render_channel_list  # noqa: E402
from ui.alerting_escalation import render_escalation  # noqa: E402
from ui.alerting_panels import (  # noqa: E402
    render_deliveries,
    render_incidents,
    render_routing,
)

st.title("Alerting")
channels, routing, escalation, incidents, deliveries = st.tabs(
    ["Channels", "Routing", "Escalation", "Open incidents", "Deliveries"])
with channels:
    render_channel_list()
    render_channel_form()
with routing:
    render_routing()
with escalation:
    render_escalation()
with incidents:
    render_incidents()
with deliveries:
    render_deliveries()
