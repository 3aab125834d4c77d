"""Incidents (admin only): open one, post updates to its timeline, edit it."""

import streamlit as st

from domain.monitor_input import InvalidInput
from storage.incidents import (
    STATUS_LABELS,
    STATUSES,
    admin_incidents,
    create_incident,
    edit_incident,
    post_update,
)
from storage.monitors import list_monitors
from ui.auth import require_admin
from ui.status_view import timeline, when

require_admin()
st.title("Incidents")

monitors = {m.id: m.name for m in list_monitors()}
monitor_choices = [None, *monitors]


def monitor_label(monitor_id: int | None) -> str:
    return "(no monitor)" if monitor_id is None else monitors[monitor_id]


def show_errors(refused: InvalidInput) -> None:
    for field, message in refused.errors.items():
        st.error(f"{field.capitalize()}: {message}")


with st.form("new_incident", clear_on_submit=True):
    st.subheader("Open an incident", anchor=False)
    title = st.text_input("Title", placeholder="Checkout is slow")
    status = st.selectbox("Status", STATUSES, format_func=STATUS_LABELS.get)
    message = st.text_area("What visitors should know (Markdown)")
    monitor_id = st.selectbox("Monitor", monitor_choices, format_func=monitor_label)
    public = st.checkbox("Show on the public status page", value=True)
    if st.form_submit_button("Open incident"):
        try:
            create_incident(title, status, message, monitor_id=monitor_id, public=public)
            st.success(f"Opened '{title.strip()}'.")
        except InvalidInput as refused:
            show_errors(refused)

for incident in admin_incidents():
    state = "open" if incident.active else f"resolved {when(incident.resolved_at)}"
    with st.expander(f"{incident.title} · {STATUS_LABELS.get(incident.status)} · {state}",
                     expanded=incident.active):
        if incident.cause:
            st.caption(f"Cause recorded by the monitor (never shown publicly): {incident.cause}")
        with st.form(f"update_{incident.id}", clear_on_submit=True):
            status = st.selectbox("Status", STATUSES, format_func=STATUS_LABELS.get,
                                  index=STATUSES.index(incident.status))
            message = st.text_area("Update (Markdown)")
            if st.form_submit_button("Post update"):
                try:
                    post_update(incident.id, status, message)
                    st.rerun()
                except InvalidInput as refused:
                    show_errors(refused)
        with st.form(f"edit_{incident.id}"):
            title = st.text_input("Title", value=incident.title)
            choice = incident.monitor_id if incident.monitor_id in monitors else None
            monitor_id = st.selectbox("Monitor", monitor_choices, format_func=monitor_label,
                                      index=monitor_choices.index(choice))
            public = st.checkbox("Show on the public status page", value=incident.public)
            if st.form_submit_button("Save"):
                try:
                    edit_incident(incident.id, title=title, public=public, monitor_id=monitor_id)
                    st.rerun()
                except InvalidInput as refused:
                    show_errors(refused)
        timeline(incident)
