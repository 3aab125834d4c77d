"""One incident in the dashboard's list: its cause, the update and edit forms (for those who may
edit incidents), its timeline."""

from __future__ import annotations

import streamlit as st

from domain.monitor_input import InvalidInput
from domain.roles import Action
from domain.severity import priority
from storage.incidents import STATUS_LABELS, STATUSES, IncidentView, edit_incident, post_update
from ui.auth import dashboard_actor, may, permitted
from ui.status_view import as_typed, timeline, when


def status_label(status: str) -> str:
    return STATUS_LABELS[status]


def show_errors(refused: InvalidInput) -> None:
    for field, message in refused.errors.items():
        st.error(f"{field.capitalize()}: {message}")


def incident_heading(incident: IncidentView) -> str:
    state = "open" if incident.active else f"resolved {when(incident.resolved_at)}"
    severity = f" · {priority(incident.severity)}" if incident.severity else ""
    return f"{as_typed(incident.title)}{severity} · {STATUS_LABELS.get(incident.status)} · {state}"


def incident_editor(incident: IncidentView, monitors: dict[int, str]) -> None:
    """The body of one incident: `monitors` names the monitors it can be tied to."""
    if incident.cause:
        st.caption("Cause recorded by the monitor (never shown publicly): "
                   f"{as_typed(incident.cause)}")
    if incident.affected:
        st.caption("Also failing, blocked by this outage (they paged nobody): "
                   + ", ".join(as_typed(name) for name in incident.affected))
    if may(Action.EDIT_INCIDENTS):
        _forms(incident, monitors)
    timeline(incident)


def _forms(incident: IncidentView, monitors: dict[int, str]) -> None:
    """The update form and the edit form; each write checks the role again."""
    choices: list[int | None] = [None, *monitors]

    def monitor_label(monitor_id: int | None) -> str:
        return "(no monitor)" if monitor_id is None else monitors[monitor_id]

    with st.form(f"update_{incident.id}", clear_on_submit=True):
        status = st.selectbox("Status", STATUSES, format_func=status_label,
                              index=STATUSES.index(incident.status))
        message = st.text_area("Update (Markdown)")
        if st.form_submit_button("Post update") and permitted(Action.EDIT_INCIDENTS):
            try:
                post_update(incident.id, status, message, actor=dashboard_actor())
                st.rerun()
            except InvalidInput as refused:
                show_errors(refused)
    with st.form(f"edit_{incident.id}"):
        title = st.text_input("Title", value=incident.title)
        choice = incident.monitor_id if incident.monitor_id in monitors else None
        monitor_id = st.selectbox("Monitor", choices, format_func=monitor_label,
                                  index=choices.index(choice))
        public = st.checkbox("Show on the public status page", value=incident.public)
        if st.form_submit_button("Save") and permitted(Action.EDIT_INCIDENTS):
            try:
                edit_incident(incident.id, title=title, public=public, monitor_id=monitor_id,
                              actor=dashboard_actor())
                st.rerun()
            except InvalidInput as refused:
                show_errors(refused)
