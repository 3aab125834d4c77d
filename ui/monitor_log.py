"""The monitor page's check log: the window's results, 50 a page (paged in SQL), failures only
on request, and the whole window as CSV."""

from __future__ import annotations

import math

import streamlit as st

from domain.formatting import milliseconds, state_label
from storage.export import encode, results_between
from storage.monitor_history import count_results_between, results_page
from storage.monitors import MonitorView
from ui.monitor_detail import phases_text
from ui.monitor_window import Window

PER_PAGE = 50
CSV_COLUMNS = ("checked_at", "outcome", "latency_ms", "http_status", "reason")


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(total / per_page))


def render_log(monitor: MonitorView, window: Window) -> None:
    st.subheader("Check log")
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
    if st.button("Prepare CSV of this window", key="log_csv_prepare"):
        content, media = encode(results_between(monitor.id, window.start, window.end),
                                CSV_COLUMNS, "csv")
        st.download_button("Download CSV", content, file_name=f"{monitor.slug}-results.csv",
                           mime=media, key="log_csv")
