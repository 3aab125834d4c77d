"""The monitor page's check log: the window's results, 50 a page (paged in SQL), failures only
on request, and the whole window as CSV in one click; built when its section is opened."""

from __future__ import annotations

import math
from collections.abc import Callable

import streamlit as st

from domain.formatting import milliseconds, state_label
from storage.export import encode, results_between
from storage.monitor_history import count_results_between, results_page
from storage.monitors import MonitorView
from ui.monitor_detail import on_demand, phases_text
from ui.monitor_window import Window

PER_PAGE = 50
LOG_OPEN_KEY = "monitor_page_log_open"  # whether the check log's section is open
CSV_COLUMNS = ("checked_at", "outcome", "latency_ms", "http_status", "reason")


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(total / per_page))


def window_csv(monitor_id: int, window: Window) -> Callable[[], bytes]:
    """The window's results as CSV, read when called (what the download button calls)."""

    def content() -> bytes:
        data, _ = encode(results_between(monitor_id, window.start, window.end), CSV_COLUMNS,
                         "csv")
        return data

    return content


def render_log(monitor: MonitorView, window: Window) -> None:
    section = on_demand("Check log: every result of the window, 50 a page, and its CSV",
                        LOG_OPEN_KEY)
    if section is not None:
        with section:
            _log(monitor, window)


def _log(monitor: MonitorView, window: Window) -> None:
    failures_only = st.toggle("Failures only", key="log_failures")
    total = count_results_between(monitor.id, window.start, window.end, failures_only)
    pages = page_count(total)
    if st.session_state.get("log_page", 1) > pages:
        st.session_state["log_page"] = pages
    page = int(st.number_input("Page", min_value=1, max_value=pages, step=1, key="log_page"))
    st.caption(f"Page {page} of {pages} · {total} results")
    rows = [{
        "At (UTC)": r.checked_at.strftime("%Y-%m-%d %H:%M:%S"),
        "Outcome": state_label(r.outcome),
        "Latency": milliseconds(r.latency_ms),
        "HTTP": "" if r.http_status is None else str(r.http_status),
        "Reason": r.reason or "",
        "Phases": phases_text(r.phases),
    } for r in results_page(monitor.id, window.start, window.end, page, PER_PAGE, failures_only)]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.info("No results in this window." if not failures_only else "No failed checks.")
    # The file is built only when the button is clicked (in Streamlit's download thread), so
    # drawing the page never reads the whole window; the click does not rerun the page.
    st.download_button("⬇️ Download CSV of this window", window_csv(monitor.id, window),
                       file_name=f"{monitor.slug}-results.csv", mime="text/csv", key="log_csv",
                       on_click="ignore")
