"""The maintenance page's sections: the new-window form, upcoming occurrences, stored windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from config.settings import get_settings
from domain.formatting import plain
from domain.monitor_input import InvalidInput
from domain.roles import Action
from storage.maintenance import scheduled_maintenance
from storage.maintenance_admin import create_window, delete_window, group_names, list_windows
from storage.monitors import list_monitors
from ui.auth import dashboard_actor, may, permitted
from ui.maintenance_forms import SCOPES, describe_schedule, parse_window_form

PREFIX = "mw_"
ERRORS = "mw_errors"
SAVED = "mw_saved"
FORM_KEYS = ("title", "description", "scope", "monitor_id", "group_name", "recurring",
             "start_date", "start_time", "end_date", "end_time", "cron", "timezone",
             "duration_minutes", "notify")
UPCOMING_DAYS = 14


def _save() -> None:
    if not permitted(Action.EDIT_MAINTENANCE):
        return
    state = st.session_state
    values = {key: state.get(PREFIX + key) for key in FORM_KEYS}
    try:
        window_id = create_window(parse_window_form(values, datetime.now(UTC)),
                                  actor=dashboard_actor())
    except InvalidInput as error:
        state[ERRORS] = error.errors
        state.pop(SAVED, None)
        return
    state[ERRORS] = {}
    state[SAVED] = (window_id, str(values["title"]).strip())
    for key in ("title", "description", "cron"):
        state[PREFIX + key] = ""


def _delete(window_id: int) -> None:
    if not permitted(Action.EDIT_MAINTENANCE):
        return
    delete_window(window_id, actor=dashboard_actor())
    st.session_state.pop(SAVED, None)


def _field_error(key: str) -> None:
    message = st.session_state.get(ERRORS, {}).get(key)
    if message:
        st.error(message)


def _defaults() -> None:
    state = st.session_state
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    for key, value in {
        "title": "", "description": "", "scope": "all", "recurring": False,
        "start_date": soon.date(), "start_time": soon.time(),
        "end_date": (soon + timedelta(hours=1)).date(),
        "end_time": (soon + timedelta(hours=1)).time(),
        "cron": "", "timezone": get_settings().timezone, "duration_minutes": 60, "notify": False,
    }.items():
        state.setdefault(PREFIX + key, value)


def render_window_form() -> None:
    _defaults()
    state = st.session_state
    st.subheader("Plan a window")
    if SAVED in state:
        st.success(f"Saved maintenance window {plain(state[SAVED][1])}.")
    if state.get(ERRORS):
        st.error("Nothing was saved: fix the fields marked below.")
    st.text_input("Title", key=PREFIX + "title", max_chars=200)
    _field_error("title")
    st.text_area("Description (shown on the status page)", key=PREFIX + "description")
    st.radio("Applies to", list(SCOPES), key=PREFIX + "scope", format_func=SCOPES.get,
             horizontal=True)
    scope = state[PREFIX + "scope"]
    if scope == "monitor":
        monitors = {m.id: m.name for m in list_monitors()}
        st.selectbox("Monitor", list(monitors), key=PREFIX + "monitor_id",
                     format_func=lambda i: monitors.get(i, str(i)), index=None,
                     placeholder="choose a monitor")
        _field_error("monitor_id")
    elif scope == "group":
        st.selectbox("Group", group_names(), key=PREFIX + "group_name", index=None,
                     placeholder="choose a group")
        _field_error("group_name")
    st.toggle("Recurring (cron schedule)", key=PREFIX + "recurring")
    st.text_input("Time zone", key=PREFIX + "timezone",
                  help="An IANA name like Europe/Berlin; times below are read in this zone.")
    _field_error("timezone")
    if state[PREFIX + "recurring"]:
        st.text_input("Cron expression", key=PREFIX + "cron", placeholder="0 2 * * 0",
                      help="minute hour day-of-month month day-of-week: '0 2 * * 0' is "
                           "Sundays at 02:00")
        _field_error("cron")
        st.number_input("Duration (minutes)", key=PREFIX + "duration_minutes", step=1)
        _field_error("duration_minutes")
    else:
        start_day, start_clock, end_day, end_clock = st.columns(4)
        start_day.date_input("Starts on", key=PREFIX + "start_date")
        start_clock.time_input("at", key=PREFIX + "start_time", step=300)
        end_day.date_input("Ends on", key=PREFIX + "end_date")
        end_clock.time_input("at ", key=PREFIX + "end_time", step=300)
        _field_error("starts_at")
        _field_error("ends_at")
    st.checkbox("Send a notice when it starts and ends (to channels with the maintenance event)",
                key=PREFIX + "notify")
    st.button("Save window", key="mw_save", on_click=_save, type="primary")


def render_upcoming() -> None:
    st.subheader(f"Upcoming (next {UPCOMING_DAYS} days)")
    views = scheduled_maintenance(horizon_days=UPCOMING_DAYS)
    if not views:
        st.info("No maintenance planned.")
        return
    st.dataframe([
        {"Title": v.title, "Starts": v.starts_at.strftime("%Y-%m-%d %H:%M UTC"),
         "Ends": v.ends_at.strftime("%Y-%m-%d %H:%M UTC"),
         "Now": "🔵 active" if v.active else ""}
        for v in views
    ], hide_index=True, width="stretch")


def render_windows() -> None:
    st.subheader("Windows")
    windows = list_windows()
    if not windows:
        st.caption("None yet.")
        return
    editable = may(Action.EDIT_MAINTENANCE)
    for window in windows:
        text, action = st.columns([5, 1])
        schedule = describe_schedule(window.cron, window.timezone, window.duration_minutes,
                                     window.starts_at, window.ends_at)
        notify = " · sends notices" if window.notify else ""
        text.markdown(f"**{plain(window.title)}** · {plain(window.scope)} · "
                      f"{plain(schedule)}{notify}")
        if editable:
            action.button("Delete", key=f"mw_delete_{window.id}", on_click=_delete,
                          args=(window.id,))
