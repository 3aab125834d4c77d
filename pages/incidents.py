"""Incidents: open one, post updates to its timeline, edit it (editors and admins; viewers
read them).

`/incidents?id=<n>` shows that one incident alone, whenever it started: the address the monitor
page and notifications link to."""

import streamlit as st

from config.base_path import site_href
from domain.monitor_input import InvalidInput
from domain.roles import Action
from storage.incidents import STATUSES, admin_incident, admin_incident_page, create_incident
from storage.monitors import list_monitors
from ui.auth import dashboard_actor, may, permitted, require_role
from ui.incident_editor import incident_editor, incident_heading, show_errors, status_label
from ui.paging import page_picker, picked_page
from ui.status_view import as_typed

require_role()
st.title("Incidents")

monitors = {m.id: m.name for m in list_monitors()}
asked = st.query_params.get("id")
if asked is not None:
    incident = admin_incident(int(asked)) if asked.isdigit() else None
    st.link_button("← All incidents", site_href("/incidents"))
    if incident is None:
        st.error(f"No incident number {as_typed(asked)[:40]}: it may have been deleted. "
                 "All incidents are listed on this page without `?id=`.")
    else:
        st.subheader(incident_heading(incident), anchor=False)
        incident_editor(incident, monitors)
    st.stop()

if may(Action.EDIT_INCIDENTS):
    with st.form("new_incident", clear_on_submit=True):
        st.subheader("Open an incident", anchor=False)
        title = st.text_input("Title", placeholder="Checkout is slow")
        status = st.selectbox("Status", STATUSES, format_func=status_label)
        message = st.text_area("What visitors should know (Markdown)")
        monitor_id = st.selectbox("Monitor", [None, *monitors],
                                  format_func=lambda m: "(no monitor)" if m is None
                                  else monitors[m])
        public = st.checkbox("Show on the public status page", value=True)
        if st.form_submit_button("Open incident") and permitted(Action.EDIT_INCIDENTS):
            try:
                create_incident(title, status, message, monitor_id=monitor_id, public=public,
                                actor=dashboard_actor())
                st.success(f"Opened '{as_typed(title.strip())}'.")
            except InvalidInput as refused:
                show_errors(refused)

listing = admin_incident_page(picked_page("incident_page"))
if listing.total:
    st.caption(f"Incidents {listing.first}–{listing.last} of {listing.total:,}, open ones first")
page_picker("incident_page", listing.number, listing.pages)

for incident in listing.incidents:
    with st.expander(incident_heading(incident), expanded=incident.active):
        incident_editor(incident, monitors)
