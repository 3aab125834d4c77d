"""The add-monitor form: validation errors show next to the field they concern."""

import streamlit as st

from core.monitor_input import InvalidInput, parse_monitor_input
from storage.monitors import create_monitor

FIELDS = ("name", "url", "interval", "timeout", "public")
ERRORS_KEY = "add_monitor_errors"
SAVED_KEY = "add_monitor_saved"


def _submit() -> None:
    values = {field: st.session_state[f"add_{field}"] for field in FIELDS}
    try:
        monitor = create_monitor(parse_monitor_input(values))
    except InvalidInput as exc:
        st.session_state[ERRORS_KEY] = exc.errors
        return
    st.session_state[ERRORS_KEY] = {}
    st.session_state[SAVED_KEY] = monitor.name
    for field, empty in (("name", ""), ("url", "")):
        st.session_state[f"add_{field}"] = empty


def _field_error(field: str) -> None:
    message = st.session_state.get(ERRORS_KEY, {}).get(field)
    if message:
        st.error(message)


def render_add_monitor_form() -> None:
    with st.form("add_monitor"):
        st.subheader("Add a monitor")
        st.text_input("Name", key="add_name", placeholder="API")
        _field_error("name")
        st.text_input("URL", key="add_url", placeholder="https://api.example.com/health")
        _field_error("url")
        st.number_input("Check interval (seconds)", value=60, step=10, key="add_interval")
        _field_error("interval")
        st.number_input("Timeout (seconds)", value=10.0, step=1.0, key="add_timeout")
        _field_error("timeout")
        st.checkbox("Show on the public status page", key="add_public")
        st.form_submit_button("Add monitor", on_click=_submit)
    for field, message in st.session_state.get(ERRORS_KEY, {}).items():
        if field not in FIELDS:
            st.error(message)
    saved = st.session_state.pop(SAVED_KEY, None)
    if saved:
        st.success(f"Added '{saved}'. Its first check runs within a few seconds.")
