"""Incidents (admin only): open one, post updates to its timeline, edit it."""

import streamlit as st

from domain.monitor_input import InvalidInput
from storage.incidents import (
    STATUS_LABELS,
    STATUSES,
    admin_incident_page,
    create_incident,
    edit_incident,
    post_update,
)
from storage.monitors import list_monitors
from ui.auth import require_admin
from ui.paging import page_picker, picked_page
from ui.status_view import as_typed, timeline, when

require_admin()
st.title("Incidents")

monitors = {m.id: m.name for m in list_monitors()}
monitor_choices = [None, *monitors]


def monitor_label(monitor_id: int | None) -> str:
    return "(no monitor)" if monitor_id is None else monitors[monitor_id]


def status_label(status: str) -> str:
    return STATUS_LABELS[status]


def show_errors(refused: InvalidInput) -> None:
    for field, message in refused.errors.items():
        st.error(f"{field.capitalize()}: {message}")


with st.form("new_incident", clear_on_submit=True):
    st.subheader("Open an incident", anchor=False)
    title = st.text_input("Title", placeholder="Checkout is slow")
    status = st.selectbox("Status", STATUSES, format_func=status_label)
    message = st.text_area("What visitors should know (Markdown)")
    monitor_id = st.selectbox("Monitor", monitor_choices, format_func=monitor_label)
    public = st.checkbox("Show on the public status page", value=True)
    if st.form_submit_button("Open incident"):
        try:
            create_incident(title, status, message, monitor_id=monitor_id, public=public)
            st.success(f"Opened '{as_typed(title.strip())}'.")
        except InvalidInput as refused:
            show_errors(refused)

listing = admin_incident_page(picked_page("incident_page"))
if listing.total:
    st.caption(f"Incidents {listing.first}–{listing.last} of {listing.total:,}, open ones first")
page_picker("incident_page", listing.number, listing.pages)

for incident in listing.incidents:
    state = "open" if incident.active else f"resolved {when(incident.resolved_at)}"
    with st.expander(f"{as_typed(incident.title)} · {STATUS_LABELS.get(incident.status)} · "
                     f"{state}", expanded=incident.active):
        if incident.cause:
            st.caption("Cause recorded by the monitor (never shown publicly): "
                       f"{as_typed(incident.cause)}")
        with st.form(f"update_{incident.id}", clear_on_submit=True):
            status = st.selectbox("Status", STATUSES, format_func=status_label,
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
