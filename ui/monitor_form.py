"""The add-monitor form: fields for the chosen kind, errors next to the field they concern,
and "Test now", which runs the check once and shows what it found before anything is saved."""

from __future__ import annotations

import streamlit as st

from checks.result import ProbeResult
from checks.run_check import check_now
from core.monitor_input import InvalidInput, MonitorInput, parse_monitor_input
from storage.monitors import create_monitor
from ui.monitor_fields import KIND_LABELS, OPTION_PREFIX, TARGET_LABELS, options_from_state

FIELDS = ("name", "url", "interval", "timeout", "public", "failures_before_down",
          "successes_before_up", "retry_interval")
ERRORS_KEY = "add_monitor_errors"
SAVED_KEY = "add_monitor_saved"
TESTED_KEY = "add_monitor_tested"


def _values() -> dict[str, object]:
    state = st.session_state
    kind = state.get("add_kind", "http")
    values = {field: state.get(f"add_{field}") for field in FIELDS}
    values = {k: v for k, v in values.items() if v is not None}
    if kind == "push":
        values.pop("url", None)
    return {**values, "kind": kind, "options": options_from_state(kind, dict(state))}


def _validated() -> MonitorInput | None:
    try:
        spec = parse_monitor_input(_values())
    except InvalidInput as exc:
        st.session_state[ERRORS_KEY] = exc.errors
        return None
    st.session_state[ERRORS_KEY] = {}
    return spec


def _submit() -> None:
    st.session_state.pop(TESTED_KEY, None)
    spec = _validated()
    if spec is None:
        return
    try:
        monitor = create_monitor(spec)
    except InvalidInput as exc:
        st.session_state[ERRORS_KEY] = exc.errors
        return
    st.session_state[SAVED_KEY] = monitor.name
    for field in ("name", "url"):
        st.session_state[f"add_{field}"] = ""


def _test_now() -> None:
    spec = _validated()
    if spec is None or spec.kind == "push":
        st.session_state.pop(TESTED_KEY, None)
        return
    st.session_state[TESTED_KEY] = check_now(spec.kind, spec.url, spec.timeout, spec.options)


def _field_error(field: str) -> None:
    message = st.session_state.get(ERRORS_KEY, {}).get(field)
    if message:
        st.error(message)


def _option(widget, label: str, name: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    widget(label, key=f"{OPTION_PREFIX}{name}", **kwargs)
    _field_error(f"options.{name}")


def _http_fields() -> None:
    _option(st.selectbox, "Method", "method",
            options=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    _option(st.text_input, "Accepted status codes", "accepted_status_codes", value="200-299")
    _option(st.text_input, "Keyword", "keyword", placeholder="All systems go")
    _option(st.checkbox, "The keyword must be absent", "keyword_absent")
    _option(st.number_input, "Degraded above (ms, 0 = never)", "degraded_above_ms",
            value=0.0, step=100.0, min_value=0.0)
    with st.expander("Request, TLS and JSON"):
        _option(st.number_input, "Follow redirects up to", "max_redirects", value=5, step=1)
        _option(st.checkbox, "Verify TLS", "verify_tls", value=True)
        _option(st.text_area, "Headers (Name: value per line)", "headers")
        _option(st.text_area, "Request body", "body")
        _option(st.text_input, "Basic auth user", "basic_auth_user")
        _option(st.text_input, "Basic auth password", "basic_auth_password", type="password")
        _option(st.text_input, "Bearer token", "bearer_token", type="password")
        _option(st.text_input, "JSON path", "json_path", placeholder="checks[0].ok")
        _field_error("options.json_assertion.path")
        _option(st.selectbox, "JSON comparison", "json_op",
                options=["==", "!=", "<", ">", "contains"])
        _option(st.text_input, "Expected JSON value", "json_expected", placeholder="true")
        _cert_fields()


def _cert_fields() -> None:
    _option(st.number_input, "Certificate warning (days left)", "cert_warning_days",
            value=30, step=1)
    _option(st.number_input, "Certificate critical (days left)", "cert_critical_days",
            value=7, step=1)


def _kind_fields(kind: str) -> None:
    if kind == "http":
        _http_fields()
    elif kind == "tls":
        _cert_fields()
    elif kind == "tcp":
        _option(st.number_input, "Degraded above (ms, 0 = never)", "degraded_above_ms",
                value=0.0, step=10.0, min_value=0.0)
    elif kind == "dns":
        _option(st.selectbox, "Record type", "record_type",
                options=["A", "AAAA", "CNAME", "MX", "TXT", "NS"])
        _option(st.text_input, "Resolver (optional)", "resolver", placeholder="9.9.9.9")
        _option(st.text_input, "Expected value (optional)", "expected")
    elif kind == "push":
        _option(st.number_input, "Grace period (seconds)", "grace_seconds", value=60, step=10)


def _show_test(result: ProbeResult) -> None:
    text = f"Test: **{result.outcome}**"
    if result.http_status is not None:
        text += f" · HTTP {result.http_status}"
    if result.latency_ms is not None:
        text += f" · {result.latency_ms:.0f} ms"
    (st.success if result.outcome == "up" else st.warning)(text)
    if result.reason:
        st.text(f"Reason: {result.reason}")  # st.text: the target's words, never Markdown
    if result.phases:
        st.text(" · ".join(f"{name} {ms:.1f} ms" for name, ms in result.phases.items()))


def render_add_monitor_form() -> None:
    st.subheader("Add a monitor")
    # Outside the form, so choosing a kind shows that kind's fields at once.
    kind = st.selectbox("Check type", list(KIND_LABELS), format_func=KIND_LABELS.get,
                        key="add_kind")
    with st.form("add_monitor"):
        st.text_input("Name", key="add_name", placeholder="API")
        _field_error("name")
        if kind != "push":
            label, placeholder = TARGET_LABELS[kind]
            st.text_input(label, key="add_url", placeholder=placeholder)
            _field_error("url")
        interval_label = (
            "Expected every (seconds)" if kind == "push" else "Check interval (seconds)"
        )
        st.number_input(interval_label, value=60, step=10, key="add_interval")
        _field_error("interval")
        st.number_input("Timeout (seconds)", value=10.0, step=1.0, key="add_timeout")
        _field_error("timeout")
        _kind_fields(kind)
        with st.expander("Confirmation"):
            st.number_input("Down after this many failures in a row", value=1 if kind == "push"
                            else 2, min_value=1, step=1, key="add_failures_before_down")
            _field_error("failures_before_down")
            st.number_input("Up again after this many successes", value=1, min_value=1, step=1,
                            key="add_successes_before_up")
            _field_error("successes_before_up")
            st.number_input("Retry a failed check after (seconds, 0 = min(interval, 20 s))",
                            value=0, min_value=0, step=5, key="add_retry_interval")
            _field_error("retry_interval")
        st.checkbox("Show on the public status page", key="add_public")
        left, right = st.columns(2)
        with left:
            st.form_submit_button("Add monitor", on_click=_submit)
        with right:
            if kind != "push":
                st.form_submit_button("Test now", on_click=_test_now)
    shown = set(FIELDS) | {k for k in st.session_state.get(ERRORS_KEY, {}) if "." in k}
    for field, message in st.session_state.get(ERRORS_KEY, {}).items():
        if field not in shown:
            st.error(f"{field}: {message}")
    tested = st.session_state.get(TESTED_KEY)
    if tested is not None:
        _show_test(tested)
    saved = st.session_state.pop(SAVED_KEY, None)
    if saved:
        st.success(f"Added '{saved}'. Its first check runs within a few seconds.")
