"""Managing a monitor from its page: pause / resume, check now, clone (the add form prefilled
with its settings), edit, delete (confirmed). Shown to those who may edit monitors; each action
checks the role again when it runs."""

from __future__ import annotations

import streamlit as st

from checks.check_now import check_and_record
from config.base_path import site_href
from domain.formatting import milliseconds, plain, state_label
from domain.links import monitor_path
from domain.roles import Action
from storage.monitors import MonitorView, delete_monitor, get_monitor, set_paused
from ui.auth import dashboard_actor, may, permitted, same_tab_link
from ui.monitor_detail import phases_text
from ui.monitor_form import (
    CLONED_KEY,
    load_clone_form,
    render_clone_monitor_form,
    render_edit_monitor_form,
)

CONFIRM_KEY = "monitor_page_confirm_delete"
DELETED_KEY = "monitor_page_deleted"
NOTICE_KEY = "monitor_page_notice"
CHECKED_KEY = "monitor_page_checked"
EDIT_OPEN_KEY = "monitor_page_edit_open"  # whether the Edit expander is open
CLONE_KEY = "monitor_page_clone"  # the slug whose clone form is open


def _pause(slug: str, paused: bool) -> None:
    if not permitted(Action.EDIT_MONITORS):
        return
    monitor = set_paused(slug, paused, actor=dashboard_actor())
    if monitor is not None:
        st.session_state[NOTICE_KEY] = f"{'Paused' if paused else 'Resumed'} '{monitor.name}'."


def _check_now(slug: str) -> None:
    if not permitted(Action.EDIT_MONITORS):
        return
    monitor = get_monitor(slug)
    if monitor is None:
        return
    result = check_and_record(monitor)
    if result is None:
        st.session_state[CHECKED_KEY] = ("info", "A push monitor is checked by its heartbeats.")
        return
    text = f"{state_label(result.outcome)} · {milliseconds(result.latency_ms)}"
    if result.phases:
        text += f" · {phases_text(result.phases)}"
    if result.reason:
        text += f"\nReason: {result.reason}"
    st.session_state[CHECKED_KEY] = ("result", text)


def _delete(slug: str, name: str) -> None:
    st.session_state.pop(CONFIRM_KEY, None)
    if not permitted(Action.EDIT_MONITORS):
        return
    if delete_monitor(slug, actor=dashboard_actor()):
        st.session_state[DELETED_KEY] = name


def _open_clone(slug: str) -> None:
    if not permitted(Action.EDIT_MONITORS):
        return
    monitor = get_monitor(slug)
    if monitor is not None:
        load_clone_form(monitor)
        st.session_state[CLONE_KEY] = slug


def _clone(monitor: MonitorView) -> None:
    """The clone form while it is open; once the copy is added, a link to it instead."""
    added = st.session_state.pop(CLONED_KEY, None)
    if added is not None:
        st.session_state.pop(CLONE_KEY, None)
        name, slug = added
        st.success(f"Added **{plain(name)}**, a copy of **{plain(monitor.name)}**. Its first "
                   "check runs within a few seconds.")
        same_tab_link(f"Open {name}", monitor_path(slug))
    if st.session_state.get(CLONE_KEY) != monitor.slug:
        return
    with st.container(border=True):
        st.markdown(f"**Clone {plain(monitor.name)}**: the new monitor starts with all of its "
                    "settings (secrets included, shown masked) and is checked as soon as it is "
                    "added, even if this one is paused. Change what differs, then add it.")
        render_clone_monitor_form(monitor)
        st.button("Cancel", key="cancel_clone_monitor",
                  on_click=lambda: st.session_state.pop(CLONE_KEY, None))


def show_deleted() -> bool:
    """After a delete: say so, link home, and tell the page to show nothing else."""
    name = st.session_state.pop(DELETED_KEY, None)
    if name is None:
        return False
    st.success(f"Deleted '{name}' and its history.")
    st.markdown(f"[Back to the dashboard]({site_href('/')})")
    return True


def render_manage(monitor: MonitorView) -> None:
    if not may(Action.EDIT_MONITORS):
        return  # a viewer reads the page; nothing here is for them
    st.subheader("Manage")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice)
    pause, check, clone, delete = st.columns(4)
    with pause:
        if monitor.paused:
            st.button("▶️ Resume checks", key="resume_monitor", on_click=_pause,
                      args=(monitor.slug, False))
        else:
            st.button("⏸️ Pause checks", key="pause_monitor", on_click=_pause,
                      args=(monitor.slug, True))
    with check:
        st.button("🔄 Check now", key="check_now", on_click=_check_now, args=(monitor.slug,),
                  disabled=monitor.kind == "push")
    with clone:
        st.button("📄 Clone…", key="clone_monitor", on_click=_open_clone, args=(monitor.slug,),
                  help="Add a new monitor with this one's settings")
    with delete:
        st.button("🗑️ Delete…", key="delete_monitor",
                  on_click=lambda: st.session_state.__setitem__(CONFIRM_KEY, monitor.slug))
    checked = st.session_state.pop(CHECKED_KEY, None)
    if checked is not None:
        kind, text = checked
        if kind == "info":
            st.info(text)
        else:
            st.text(f"Check now: {text}")  # the target's words, never Markdown
    _clone(monitor)
    if st.session_state.get(CONFIRM_KEY) == monitor.slug:
        st.warning(f"Delete **{plain(monitor.name)}** and all its results? This cannot be undone.")
        yes, no = st.columns(2)
        with yes:
            st.button("Yes, delete it", key="confirm_delete_monitor", type="primary",
                      on_click=_delete, args=(monitor.slug, monitor.name))
        with no:
            st.button("Cancel", key="cancel_delete_monitor",
                      on_click=lambda: st.session_state.pop(CONFIRM_KEY, None))
    # The edit form is built only once the expander is opened: its many widgets would
    # otherwise be drawn with every visit, while the chart above waits for the browser.
    edit = st.expander("Edit", key=EDIT_OPEN_KEY, on_change="rerun")
    if edit.open:
        with edit:
            render_edit_monitor_form(monitor)
