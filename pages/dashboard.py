"""Internal dashboard: every monitor with its state, and the add-monitor form."""

import streamlit as st

from storage.monitors import list_monitors
from ui.auth import require_admin
from ui.formatting import ago, milliseconds, state_label
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
                "State": state_label("paused" if m.paused else m.state),
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
render_add_monitor_form()
