"""The public status page: public monitors only, no URLs, hosts or error text."""
import sys, time
import streamlit as st

from ui import status_view
from ui.status_data import REFRESH_S, current_status
_t0 = time.perf_counter()
status_view.header()


@st.fragment(run_every=REFRESH_S)
def status_panel() -> None:
    t = [time.perf_counter()]
    def lap(name):
        n = time.perf_counter(); print(f"TIMER {name} {(n - t[0])*1000:.0f}", file=sys.stderr, flush=True); t[0] = n
    status = current_status(); lap("status")
    status_view.banner(status)
    status_view.active_incidents(status)
    status_view.maintenance(status.maintenance); lap("top")
    status_view.components(status); lap("components")
    status_view.history(status)
    status_view.footer(status); lap("rest")


status_panel()
print(f"TIMER total {(time.perf_counter() - _t0)*1000:.0f}", file=sys.stderr, flush=True)
