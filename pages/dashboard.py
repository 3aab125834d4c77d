"""Internal dashboard: every monitor with its state, one monitor up close, the add form."""

import streamlit as st

from domain.formatting import ago, milliseconds, state_label
from domain.states import effective_state
from storage.monitors import get_monitor, list_monitors
from ui.auth import require_admin
from ui.monitor_detail import SELECTED_KEY, render_monitor_detail, show_notice
from ui.monitor_form import render_add_monitor_form

require_admin()

st.title("Monitors")


@st.fragment(run_every=5)
def monitor_table() -> None:
    monitors = list_monitors()
    if not monitors:
        st.info("No monitors yet. Add one below.")
        return
    st.dataframe(
        [
            {
                "Name": m.name,
                "State": state_label(effective_state(m.paused, m.state)),
                "Latency": milliseconds(m.latency_ms),
                "Last check": ago(m.last_check_at),
                "Reason": m.reason or "",
                "URL": m.url,
                "Public": m.public,
                "Badge": f"/badge/{m.slug}/status.svg" if m.public else "",
            }
            for m in monitors
        ],
        hide_index=True,
        width="stretch",
    )


monitor_table()

st.subheader("Manage a monitor")
show_notice()
names = {m.slug: m.name for m in list_monitors()}
if st.session_state.get(SELECTED_KEY) not in names:
    st.session_state[SELECTED_KEY] = None  # deleted, or never chosen
slug = st.selectbox("Monitor", list(names), format_func=names.get, index=None,
                    placeholder="Choose a monitor to edit, pause or delete", key=SELECTED_KEY)
monitor = get_monitor(slug) if slug else None
if monitor is not None:
    render_monitor_detail(monitor)

render_add_monitor_form()
