"""The public status page: public monitors only, no URLs, hosts or error text."""

import streamlit as st

from core.settings import get_settings
from storage.status import overall_state, public_components
from ui.formatting import OVERALL_LABELS, ago, percent, plain, state_label

settings = get_settings()
st.title(settings.status_title)
if settings.status_description:
    st.caption(settings.status_description)


@st.fragment(run_every=10)
def status_panel() -> None:
    components = public_components()
    overall = overall_state(components)
    banner = {"operational": st.success, "degraded": st.warning, "maintenance": st.info}
    banner.get(overall, st.error)(OVERALL_LABELS[overall])
    if not components:
        st.info("No services are listed on this page yet.")
        return
    for component in components:
        name, state, uptime = st.columns([3, 2, 2])
        name.markdown(f"**{plain(component.name)}**")
        state.markdown(state_label(component.state))
        uptime.markdown(f"{percent(component.uptime_24h)} uptime (24 h)")
    last_check = max((c.last_check_at for c in components if c.last_check_at), default=None)
    st.caption(f"Last checked {ago(last_check)}")


status_panel()
