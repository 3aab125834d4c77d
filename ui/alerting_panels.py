"""The other sections of the alerting page: per-monitor routing, open incidents with their
Acknowledge button, and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from domain.formatting import ago, plain
from domain.monitor_input import InvalidInput
from storage.alerting_admin import (
    acknowledge_incident,
    list_channels,
    monitor_routes,
    open_incidents,
    recent_attempts,
    set_monitor_routes,
)
from storage.monitors import list_monitors
from ui.auth import dashboard_actor

ACK_WHO = "ack_who"
ROUTING_MESSAGE = "routing_message"


def _save_routes(monitor_id: int, monitor_name: str) -> None:
    chosen = list(st.session_state.get(f"route_{monitor_id}") or [])
    try:
        set_monitor_routes(monitor_id, chosen, actor=dashboard_actor())
    except InvalidInput as error:
        st.session_state[ROUTING_MESSAGE] = (False, next(iter(error.errors.values())))
        return
    st.session_state[ROUTING_MESSAGE] = (True, f"Routing of {monitor_name} saved.")


def render_routing() -> None:
    monitors = list_monitors()
    channels = {channel.id: channel.name for channel in list_channels()}
    if not monitors or not channels:
        st.info("Routing needs at least one monitor and one channel.")
        return
    st.caption("A monitor with no channel chosen is paged on every enabled channel.")
    message = st.session_state.pop(ROUTING_MESSAGE, None)
    if message:
        (st.success if message[0] else st.error)(plain(message[1]))
    routes = monitor_routes()
    for monitor in monitors:
        key = f"route_{monitor.id}"
        if key not in st.session_state:
            st.session_state[key] = [c for c in routes.get(monitor.id, []) if c in channels]
        pick, save = st.columns([4, 1], vertical_alignment="bottom")
        pick.multiselect(monitor.name, list(channels), key=key,
                         format_func=lambda i: channels.get(i, str(i)),
                         placeholder="every enabled channel")
        save.button("Save", key=f"route_save_{monitor.id}", on_click=_save_routes,
                    args=(monitor.id, monitor.name))


def _acknowledge(incident_id: int) -> None:
    who = str(st.session_state.get(ACK_WHO) or "").strip() or "admin"
    done = acknowledge_incident(incident_id, f"{who} (dashboard)", datetime.now(UTC),
                                actor=dashboard_actor())
    st.session_state["ack_message"] = (
        "Acknowledged: escalation and reminders are stopped." if done
        else "It was already acknowledged.")


def render_incidents() -> None:
    incidents = open_incidents()
    if message := st.session_state.pop("ack_message", None):
        st.success(message)
    if not incidents:
        st.success("No open incidents.")
        return
    st.text_input("Acknowledge as", key=ACK_WHO, value="admin", max_chars=80)
    for incident in incidents:
        with st.container(border=True):
            text, action = st.columns([4, 1])
            cause = f" — {plain(incident.cause)}" if incident.cause else ""
            text.markdown(f"**{plain(incident.title)}**{cause}")
            text.caption(f"Started {ago(incident.started_at)}")
            if incident.acknowledged_at:
                text.caption(f"Acknowledged by {plain(incident.acknowledged_by or 'someone')} "
                             f"{ago(incident.acknowledged_at)}")
            else:
                action.button("Acknowledge", key=f"ack_{incident.id}", on_click=_acknowledge,
                              args=(incident.id,))


def render_deliveries() -> None:
    attempts = recent_attempts()
    if not attempts:
        st.info("Nothing has been sent yet.")
        return
    st.dataframe([
        {"When": a.at.strftime("%Y-%m-%d %H:%M:%S UTC"), "Channel": a.channel,
         "Monitor": a.monitor, "Notice": a.notice, "Outcome": a.outcome,
         "Error or note": a.error or ""}
        for a in attempts
    ], hide_index=True, width="stretch")
