"""One monitor up close: its state, pause / resume, delete (after a confirmation), its recent
results with timing phases and reasons, its push URL, and the edit form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import streamlit as st

from config.settings import get_settings
from domain.formatting import ago, milliseconds, plain, state_label
from domain.states import effective_state
from storage.models import CheckResult, as_utc
from storage.monitors import MonitorView, delete_monitor, set_paused
from storage.results import recent_results
from ui.monitor_form import render_edit_monitor_form

SELECTED_KEY = "manage_slug"
CONFIRM_DELETE_KEY = "confirm_delete"
NOTICE_KEY = "manage_notice"
RECENT_LIMIT = 20


def push_url(public_url: str, token: str) -> str:
    """Where a cron job or service sends its heartbeat."""
    return f"{public_url.rstrip('/')}/api/v1/push/{token}"


def phases_text(phases: dict[str, float]) -> str:
    return " · ".join(f"{name} {ms:.1f} ms" for name, ms in phases.items())


def result_rows(
    results: Sequence[CheckResult], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Recent results as table rows, newest first (as given)."""
    rows = []
    for result in results:
        checked_at = as_utc(result.checked_at) or result.checked_at
        rows.append({
            "Checked": ago(checked_at, now),
            "At (UTC)": checked_at.strftime("%Y-%m-%d %H:%M:%S"),
            "Outcome": state_label(result.outcome),
            "Latency": milliseconds(result.latency_ms),
            "HTTP": "" if result.http_status is None else str(result.http_status),
            "Reason": result.reason or "",
            "Phases": phases_text(result.phases or {}),
        })
    return rows


def _pause(slug: str, paused: bool) -> None:
    monitor = set_paused(slug, paused)
    if monitor is not None:
        verb = "Paused" if paused else "Resumed"
        st.session_state[NOTICE_KEY] = f"{verb} '{monitor.name}'."


def _ask_delete(slug: str) -> None:
    st.session_state[CONFIRM_DELETE_KEY] = slug


def _cancel_delete() -> None:
    st.session_state.pop(CONFIRM_DELETE_KEY, None)


def _delete(slug: str, name: str) -> None:
    st.session_state.pop(CONFIRM_DELETE_KEY, None)
    if delete_monitor(slug):
        st.session_state[NOTICE_KEY] = f"Deleted '{name}' and its history."
    st.session_state[SELECTED_KEY] = None


def _actions(monitor: MonitorView) -> None:
    left, right = st.columns(2)
    with left:
        if monitor.paused:
            st.button("▶️ Resume checks", key="resume_monitor", on_click=_pause,
                      args=(monitor.slug, False))
        else:
            st.button("⏸️ Pause checks", key="pause_monitor", on_click=_pause,
                      args=(monitor.slug, True))
    with right:
        st.button("🗑️ Delete…", key="delete_monitor", on_click=_ask_delete, args=(monitor.slug,))
    if st.session_state.get(CONFIRM_DELETE_KEY) == monitor.slug:
        st.warning(f"Delete **{plain(monitor.name)}** and all its results? This cannot be undone.")
        yes, no = st.columns(2)
        with yes:
            st.button("Yes, delete it", key="confirm_delete_monitor", type="primary",
                      on_click=_delete, args=(monitor.slug, monitor.name))
        with no:
            st.button("Cancel", key="cancel_delete_monitor", on_click=_cancel_delete)


def _summary(monitor: MonitorView) -> None:
    state = effective_state(monitor.paused, monitor.state)
    st.markdown(f"**{plain(monitor.name)}** · {state_label(state)} · last check "
                f"{ago(monitor.last_check_at)} · {milliseconds(monitor.latency_ms)}")
    if monitor.reason and not monitor.paused:
        st.text(f"Reason: {monitor.reason}")  # the target's words, never Markdown
    if monitor.kind == "push" and monitor.push_token:
        st.caption("Push URL (send GET or POST; add ?status=down&msg=... to report a failure). "
                   "Anyone with this URL can report for this monitor: keep it private.")
        st.code(push_url(get_settings().public_url, monitor.push_token), language=None)


def _recent(monitor: MonitorView) -> None:
    rows = result_rows(recent_results(monitor.id, limit=RECENT_LIMIT))
    if not rows:
        st.info("No results yet.")
        return
    st.dataframe(rows, hide_index=True, width="stretch")


def render_monitor_detail(monitor: MonitorView) -> None:
    _summary(monitor)
    _actions(monitor)
    results_tab, edit_tab = st.tabs(["Recent results", "Edit"])
    with results_tab:
        _recent(monitor)
    with edit_tab:
        render_edit_monitor_form(monitor)
        # Group, order and URL visibility are set for all monitors at once on that page.
        st.caption("Where this monitor shows on the status page: see Badges & layout.")


def show_notice() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice)
