"""The Reports page's "Scheduled reports": the schedules with their last sends, and (for those
who may edit alerting) add, edit, delete and "send now"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from config.settings import get_settings
from domain.formatting import ago, plain
from domain.limits import InvalidInput
from domain.report_schedule import (
    DEFAULT_TARGET_PERCENT,
    PERIOD_LABELS,
    PERIODS,
    parse_schedule,
)
from domain.roles import Action
from storage.db import get_engine
from storage.report_schedules import (
    REPORT_CHANNEL_KINDS,
    ScheduleView,
    SentReport,
    channel_names,
    delete_schedule,
    list_schedules,
    recent_sends,
    save_schedule,
)
from ui.auth import dashboard_actor, may, permitted

if TYPE_CHECKING:
    from notifiers.report_sender import SendOutcome

PREFIX = "rs_"
EDITING = "rs_editing"  # the schedule id being edited, None for a new one
ERRORS = "rs_errors"
SAVED = "rs_saved"
SENT = "rs_sent"  # schedule id -> the outcomes of its last "send now"
FIELDS = ("name", "period", "send_at", "timezone", "channel_ids", "target_percent", "enabled")
WHEN = {"daily": "every day", "weekly": "every Monday", "monthly": "on the 1st of each month"}
WHAT = {"daily": "the day before", "weekly": "the last ISO week", "monthly": "the last month"}


def _schedules() -> dict[int, ScheduleView]:
    return {schedule.id: schedule for schedule in list_schedules()}


def _fill_form(schedule: ScheduleView | None) -> None:
    state = st.session_state
    state[ERRORS] = {}
    spec = schedule.spec if schedule else None
    state[PREFIX + "name"] = spec.name if spec else ""
    state[PREFIX + "period"] = spec.period if spec else "weekly"
    state[PREFIX + "send_at"] = spec.send_at.strftime("%H:%M") if spec else "08:00"
    state[PREFIX + "timezone"] = spec.timezone if spec else get_settings().timezone
    state[PREFIX + "channel_ids"] = list(spec.channel_ids) if spec else []
    state[PREFIX + "target_percent"] = spec.target_percent if spec else DEFAULT_TARGET_PERCENT
    state[PREFIX + "enabled"] = spec.enabled if spec else True


def _start_editing(schedule_id: int | None) -> None:
    st.session_state[EDITING] = schedule_id
    st.session_state.pop(SAVED, None)
    _fill_form(_schedules().get(schedule_id) if schedule_id is not None else None)


def _save() -> None:
    if not permitted(Action.EDIT_ALERTING):
        return
    state = st.session_state
    values = {field: state.get(PREFIX + field) for field in FIELDS}
    try:
        saved = save_schedule(parse_schedule(values), state.get(EDITING),
                              actor=dashboard_actor())
    except InvalidInput as refused:
        state[ERRORS] = refused.errors
        state.pop(SAVED, None)
        return
    _start_editing(None)
    state[SAVED] = saved.spec.name


def _delete(schedule_id: int) -> None:
    if not permitted(Action.EDIT_ALERTING):
        return
    delete_schedule(schedule_id, actor=dashboard_actor())
    if st.session_state.get(EDITING) == schedule_id:
        _start_editing(None)


def _send_now(schedule_id: int) -> None:
    if not permitted(Action.EDIT_ALERTING):
        return
    # Imported when sending: the page loads without the channels' modules until then.
    from notifiers.report_sender import send_now

    schedule = _schedules().get(schedule_id)
    if schedule is not None:
        st.session_state.setdefault(SENT, {})[schedule_id] = send_now(
            get_engine(), get_settings(), schedule, dashboard_actor())


def _field_error(field: str) -> None:
    message = st.session_state.get(ERRORS, {}).get(field)
    if message:
        st.error(f"{message[:1].upper()}{message[1:]}.")


def _show_outcomes(outcomes: list[SendOutcome]) -> None:
    for outcome in outcomes:
        if outcome.status == "delivered":
            st.success(f"Sent to {plain(outcome.channel)}.")
        else:
            retry = " (tried again within the hour)" if outcome.status == "pending" else ""
            st.error(f"Not sent to {plain(outcome.channel)}{retry}: "
                     f"{plain(outcome.error or 'unknown error')}")


def _describe(schedule: ScheduleView, names: dict[int, str], sends: list[SentReport]) -> None:
    spec = schedule.spec
    state = "" if spec.enabled else " · paused"
    st.markdown(f"**{plain(spec.name)}** · {PERIOD_LABELS[spec.period]}{state}")
    channels = ", ".join(plain(names.get(i, f"(deleted channel {i})")) for i in spec.channel_ids)
    what = WHAT[spec.period]
    st.caption(f"{what[:1].upper()}{what[1:]}, sent {WHEN[spec.period]} at "
               f"{spec.send_at:%H:%M} {plain(spec.timezone)} to {channels}; uptime target "
               f"{spec.target_percent:g} %")
    for sent in [s for s in sends if s.schedule_id == schedule.id][:3]:
        how = "send now" if sent.requested_by != "schedule" else "scheduled"
        error = f": {plain(sent.last_error)}" if sent.last_error else ""
        st.caption(f"{sent.period_label} ({how}, {ago(sent.created_at)}) to "
                   f"{plain(sent.channel)}: {sent.status}{error}")


def _form(channels: dict[int, str]) -> None:
    editing = st.session_state.get(EDITING)
    st.markdown("**Edit the schedule**" if editing is not None else "**Add a schedule**")
    st.text_input("Name", key=PREFIX + "name", placeholder="Weekly summary for the team")
    _field_error("name")
    period, send_at, zone = st.columns(3)
    period.selectbox("Period", PERIODS, key=PREFIX + "period",
                     format_func=lambda kind: f"{PERIOD_LABELS[kind]} ({WHAT[kind]})")
    send_at.text_input("Send at (HH:MM)", key=PREFIX + "send_at")
    zone.text_input("Time zone", key=PREFIX + "timezone", help="An IANA name, e.g. Europe/Berlin")
    for field in ("period", "send_at", "timezone"):
        _field_error(field)
    # Options drop channels that went away, so the widget never holds an unknown value.
    st.session_state[PREFIX + "channel_ids"] = [
        i for i in st.session_state.get(PREFIX + "channel_ids", []) if i in channels]
    st.multiselect("Channels", list(channels), key=PREFIX + "channel_ids",
                   format_func=lambda i: channels[i],
                   help="E-mail gets HTML with a CSV attached, Slack a Block Kit message, "
                        "webhooks JSON with the text.")
    _field_error("channel_ids")
    st.number_input("Uptime target (%)", min_value=0.001, max_value=100.0, step=0.1,
                    format="%.3f", key=PREFIX + "target_percent")
    _field_error("target_percent")
    st.checkbox("Send on schedule", key=PREFIX + "enabled")
    save, cancel = st.columns(2)
    save.button("Save schedule", key="rs_save", on_click=_save, type="primary")
    if editing is not None:
        cancel.button("Cancel", key="rs_cancel", on_click=_start_editing, args=(None,))


def render_report_schedules() -> None:
    st.subheader("Scheduled reports")
    st.caption("Daily, weekly or monthly summaries of every monitor (uptime against a target, "
               "p50/p95/p99, incidents, MTTA/MTTR, the worst monitors), each period sent once.")
    if PREFIX + "name" not in st.session_state:
        _fill_form(None)
    saved = st.session_state.get(SAVED)
    if saved:
        st.success(f"Schedule '{plain(saved)}' saved.")
    every = channel_names()
    names = {i: name for i, (name, _kind) in every.items()}
    usable = {i: name for i, (name, kind) in every.items() if kind in REPORT_CHANNEL_KINDS}
    schedules = _schedules()
    sends = recent_sends(limit=60)
    editor = may(Action.EDIT_ALERTING)
    if not schedules:
        st.info("No scheduled reports yet." + (" Add one below." if editor else ""))
    for schedule in schedules.values():
        with st.container(border=True):
            _describe(schedule, names, sends)
            if editor:
                now, edit, remove = st.columns(3)
                now.button("Send now", key=f"rs_now_{schedule.id}", on_click=_send_now,
                           args=(schedule.id,), help="Last period's report to its channels, "
                           "at once; the scheduled one still goes out")
                edit.button("Edit", key=f"rs_edit_{schedule.id}", on_click=_start_editing,
                            args=(schedule.id,))
                remove.button("Delete", key=f"rs_delete_{schedule.id}", on_click=_delete,
                              args=(schedule.id,))
            _show_outcomes(st.session_state.get(SENT, {}).get(schedule.id, []))
    if not editor:
        return
    if not usable:
        st.info("Reports go to e-mail, Slack or webhook channels: add one on the Alerting page.")
        return
    with st.container(border=True):
        _form(usable)
