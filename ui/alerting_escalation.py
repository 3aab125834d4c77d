"""The Alerting page's reminders and flap detection: one form, refused with a message per field
(nothing saved then)."""

from __future__ import annotations

import streamlit as st

from domain.escalation import EscalationSettings
from domain.monitor_input import InvalidInput
from storage.alerting_admin import escalation_settings, save_escalation_settings
from ui.auth import dashboard_actor

LABELS = {
    "remind_every_minutes": "Remind every (minutes, 0 = never)",
    "flap_changes": "Flapping after more than this many state changes",
    "flap_window_minutes": "… within this many minutes",
}
HELP = {
    "remind_every_minutes": "While an incident is open and nobody acknowledged it, the channels "
                            "that were paged hear about it again at this interval.",
    "flap_changes": "A flapping monitor is announced once; its next changes stay quiet until "
                    "it has been calm for a whole window.",
}


def render_escalation() -> None:
    current = escalation_settings()
    st.caption("For every monitor. Reminders stop when someone acknowledges the incident.")
    with st.form("escalation"):
        values = {name: st.number_input(label, value=getattr(current, name), step=1,
                                        help=HELP.get(name), key=f"escalation_{name}")
                  for name, label in LABELS.items()}
        if st.form_submit_button("Save reminders and flapping"):
            _save(values)


def _save(values: dict[str, object]) -> None:
    try:
        saved: EscalationSettings = save_escalation_settings(values, actor=dashboard_actor())
    except InvalidInput as refused:
        for name, message in refused.errors.items():
            st.error(f"{LABELS.get(name, name)}: {message}")
        return
    reminders = (f"every {saved.remind_every_minutes} min" if saved.remind_every_minutes
                 else "off")
    st.success(f"Saved: reminders {reminders}; flapping after more than {saved.flap_changes} "
               f"changes in {saved.flap_window_minutes} min.")
