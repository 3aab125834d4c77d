"""The monitor form, for adding (from scratch, or a copy of a monitor) and for editing: fields
for the chosen kind, errors next to the field they concern, and "Test now", which runs the check
once and shows what it found before anything is saved.

The forms share the widgets; their values live in session state under a prefix (`add_`,
`clone_`, `edit_`), seeded before the widgets are drawn so no widget is given a value twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from checks.run_check import check_now
from domain.check_options import IP_VERSIONS
from domain.monitor_input import (
    InvalidInput,
    MonitorInput,
    parse_monitor_input,
    parse_monitor_update,
)
from domain.result import ProbeResult
from domain.roles import Action
from domain.severity import SEVERITIES, severity_label
from domain.window_rules import (
    MAX_RULES,
    PERCENTILES,
    PERIODS,
    RULE_KINDS,
    describe_rule,
    latency_levels,
    parse_rule,
)
from storage.alerting_admin import escalation_settings
from storage.monitors import (
    MonitorView,
    create_monitor,
    get_monitor,
    list_monitors,
    update_monitor,
)
from ui.alerting_escalation import HELP as ESCALATION_HELP
from ui.alerting_escalation import LABELS as ESCALATION_LABELS
from ui.auth import dashboard_actor, permitted
from ui.monitor_fields import (
    ADD_PREFIX,
    CLONE_PREFIX,
    EDIT_PREFIX,
    FIELD_DEFAULTS,
    FIELDS,
    IP_VERSION_LABELS,
    KIND_LABELS,
    LEVEL_FIELDS,
    OVERRIDE_FIELDS,
    RULE_DEFAULTS,
    RULE_FIELDS,
    TARGET_LABELS,
    clone_form_state,
    default_form_state,
    form_state_from_monitor,
    form_values,
    option_key,
    rule_count,
    rule_key,
    rules_from_state,
    with_rule_removed,
    with_rules_added,
)

CLONED_KEY = "clone_added"  # the copy just added: (name, slug)


def _errors_key(prefix: str) -> str:
    return f"{prefix}errors"


def _validated(prefix: str) -> MonitorInput | None:
    try:
        spec = parse_monitor_input(form_values(st.session_state.to_dict(), prefix))
    except InvalidInput as exc:
        st.session_state[_errors_key(prefix)] = exc.errors
        return None
    st.session_state[_errors_key(prefix)] = {}
    return spec


def _created(prefix: str, spec: MonitorInput | None) -> MonitorView | None:
    """The monitor saved from a validated form (None: refused, the form says why)."""
    if spec is None:
        return None
    try:
        return create_monitor(spec, actor=dashboard_actor())
    except InvalidInput as exc:
        st.session_state[_errors_key(prefix)] = exc.errors
        return None


def _add() -> None:
    if not permitted(Action.EDIT_MONITORS):
        return
    st.session_state.pop(f"{ADD_PREFIX}tested", None)
    monitor = _created(ADD_PREFIX, _validated(ADD_PREFIX))
    if monitor is None:
        return
    st.session_state[f"{ADD_PREFIX}saved"] = f"Added '{monitor.name}'. Its first check runs " \
        "within a few seconds."
    for field in ("name", "url"):
        st.session_state[f"{ADD_PREFIX}{field}"] = ""


def load_edit_form(monitor: MonitorView, force: bool = False) -> None:
    """Prefill the edit form with `monitor`, unless it already shows this version of it."""
    marker = (monitor.slug, monitor.updated_at)
    if force or st.session_state.get(f"{EDIT_PREFIX}loaded") != marker:
        st.session_state.update(form_state_from_monitor(monitor, EDIT_PREFIX))
        st.session_state[f"{EDIT_PREFIX}loaded"] = marker
        st.session_state[_errors_key(EDIT_PREFIX)] = {}
        st.session_state.pop(f"{EDIT_PREFIX}tested", None)
    else:  # fields of a kind chosen since loading start from their defaults
        for key, value in default_form_state(EDIT_PREFIX).items():
            st.session_state.setdefault(key, value)


def _save_edit(slug: str) -> None:
    if not permitted(Action.EDIT_MONITORS):
        return
    st.session_state.pop(f"{EDIT_PREFIX}tested", None)
    changes = form_values(st.session_state.to_dict(), EDIT_PREFIX, complete=True)
    try:
        monitor = update_monitor(slug, changes, actor=dashboard_actor())
    except InvalidInput as exc:
        st.session_state[_errors_key(EDIT_PREFIX)] = exc.errors
        return
    if monitor is None:
        st.session_state[_errors_key(EDIT_PREFIX)] = {"monitor": "this monitor no longer exists"}
        return
    load_edit_form(monitor, force=True)  # shows what was saved, secrets masked again
    st.session_state[f"{EDIT_PREFIX}saved"] = f"Saved '{monitor.name}'."


def _edited_spec(prefix: str, slug: str) -> MonitorInput | None:
    """The form's monitor as it would be saved, over the stored monitor `slug` (the one edited,
    or the one copied): a masked secret stands for the stored one."""
    current = get_monitor(slug)
    if current is None:
        st.session_state[_errors_key(prefix)] = {"monitor": "this monitor no longer exists"}
        return None
    changes = form_values(st.session_state.to_dict(), prefix, complete=True)
    try:
        spec = parse_monitor_update(current.to_input(), changes)
    except InvalidInput as exc:
        st.session_state[_errors_key(prefix)] = exc.errors
        return None
    st.session_state[_errors_key(prefix)] = {}
    return spec


def _add_copy(source_slug: str) -> None:
    """Add the copy the clone form describes; a refused one saves nothing and says why."""
    if not permitted(Action.EDIT_MONITORS):
        return
    st.session_state.pop(f"{CLONE_PREFIX}tested", None)
    monitor = _created(CLONE_PREFIX, _edited_spec(CLONE_PREFIX, source_slug))
    if monitor is None:
        return
    st.session_state[CLONED_KEY] = (monitor.name, monitor.slug)


def _test_now(prefix: str, slug: str | None = None) -> None:
    if not permitted(Action.EDIT_MONITORS):
        return
    spec = _validated(prefix) if slug is None else _edited_spec(prefix, slug)
    if spec is None or spec.kind == "push":
        st.session_state.pop(f"{prefix}tested", None)
        return
    st.session_state[f"{prefix}tested"] = check_now(spec.kind, spec.url, spec.timeout,
                                                    spec.options)


def _kind_changed(prefix: str) -> None:
    # A missed heartbeat is confirmed by the grace period already: down at the first miss.
    kind = st.session_state.get(f"{prefix}kind")
    st.session_state[f"{prefix}failures_before_down"] = (
        1 if kind == "push" else FIELD_DEFAULTS["failures_before_down"]
    )


RULE_KIND_LABELS = {
    "latency": "Latency percentile above (ms)",
    "failure_rate": "Failed checks above (%)",
    "uptime": "Uptime below (%)",
    "certificate_days": "Certificate days left below",
}


def _rule_kind_label(kind: str) -> str:
    return RULE_KIND_LABELS[kind]


def _percentile_label(percentile: int) -> str:
    return f"p{percentile}"


def _add_rule(prefix: str) -> None:
    st.session_state.update(with_rules_added(st.session_state.to_dict(), prefix,
                                             [dict(RULE_DEFAULTS)]))


def _remove_rule(prefix: str, index: int) -> None:
    st.session_state.update(with_rule_removed(st.session_state.to_dict(), prefix, index))
    st.session_state[_errors_key(prefix)] = {}  # they named the slots as they were


def _add_latency_levels(prefix: str) -> None:
    warning, critical = (st.session_state.get(f"{prefix}{field}") for field in LEVEL_FIELDS)
    try:
        if warning is None and critical is None:
            raise InvalidInput({"latency_warning_ms": "enter a warning or a critical level"})
        added = latency_levels(warning, critical)
    except InvalidInput as exc:
        st.session_state[_errors_key(prefix)] = exc.errors
        return
    st.session_state.update(with_rules_added(st.session_state.to_dict(), prefix, added))
    st.session_state.update({f"{prefix}{field}": None for field in LEVEL_FIELDS})
    st.session_state[_errors_key(prefix)] = {}


def _shown_description(raw: dict[str, Any]) -> str | None:
    try:
        return describe_rule(parse_rule(raw))
    except InvalidInput:
        return None


class _Fields:
    """Draws the widgets of one form, each with its error under it."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.errors: dict[str, str] = st.session_state.get(_errors_key(prefix), {})

    def error(self, field: str) -> None:
        message = self.errors.get(field)
        if message:
            st.error(message)

    def field(self, widget: Callable[..., Any], label: str, name: str, **kwargs: Any) -> None:
        widget(label, key=f"{self.prefix}{name}", **kwargs)
        self.error(name)

    def option(self, widget: Callable[..., Any], label: str, name: str, **kwargs: Any) -> None:
        widget(label, key=option_key(self.prefix, name), **kwargs)
        self.error(f"options.{name}")

    def http(self) -> None:
        self.option(st.selectbox, "Method", "method",
                    options=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        self.option(st.text_input, "Accepted status codes", "accepted_status_codes")
        self.option(st.text_input, "Keyword", "keyword", placeholder="All systems go")
        self.option(st.checkbox, "The keyword must be absent", "keyword_absent")
        self.option(st.number_input, "Degraded above (ms, 0 = never)", "degraded_above_ms",
                    step=100.0, min_value=0.0)
        with st.expander("Request, TLS and JSON"):
            self.option(st.number_input, "Follow redirects up to", "max_redirects", step=1)
            self.option(st.checkbox, "Verify TLS", "verify_tls")
            self.option(st.checkbox, "Keep headers and credentials on redirects to another site",
                        "keep_headers_on_redirect")
            self.option(st.text_area, "Headers (Name: value per line)", "headers")
            self.option(st.text_area, "Request body", "body")
            self.option(st.text_input, "Basic auth user", "basic_auth_user")
            self.option(st.text_input, "Basic auth password", "basic_auth_password",
                        type="password")
            self.option(st.text_input, "Bearer token", "bearer_token", type="password")
            self.option(st.text_input, "JSON path", "json_path", placeholder="checks[0].ok")
            self.error("options.json_assertion.path")
            self.option(st.selectbox, "JSON comparison", "json_op",
                        options=["==", "!=", "<", ">", "contains"])
            self.option(st.text_input, "Expected JSON value", "json_expected",
                        placeholder="true")
            self.cert()
        self.trust()

    def addresses(self) -> None:
        self.option(st.selectbox, "IP version", "ip_version", options=list(IP_VERSIONS),
                    format_func=IP_VERSION_LABELS.get,
                    help="Which of the name's addresses are tried: all (IPv6 and IPv4 in turn, "
                         "the first to connect wins), or one version only.")

    def trust(self) -> None:
        with st.expander("Trust and addresses"):
            self.option(st.text_area, "Extra CA bundle (PEM)", "ca_bundle",
                        placeholder="-----BEGIN CERTIFICATE-----",
                        help="Authorities trusted beside the system store, e.g. your "
                             "company's private CA.")
            self.option(st.text_area, "Client certificate (PEM, for mutual TLS)",
                        "client_certificate", placeholder="-----BEGIN CERTIFICATE-----")
            self.option(st.text_area, "Client key (PEM, unencrypted)", "client_key",
                        placeholder="-----BEGIN PRIVATE KEY-----",
                        help="Kept encrypted; once saved it shows as ********** only.")
            self.addresses()

    def cert(self) -> None:
        self.option(st.number_input, "Certificate warning (days left)", "cert_warning_days",
                    step=1)
        self.option(st.number_input, "Certificate critical (days left)", "cert_critical_days",
                    step=1)

    def rules(self) -> None:
        """Numbered rule slots (every field shown: inside a form a changed kind draws nothing
        until submitted; the fields a kind does not take are left out when sent)."""
        state = st.session_state.to_dict()
        count = rule_count(state, self.prefix)
        for index in range(count):
            for field in RULE_FIELDS:
                st.session_state.setdefault(rule_key(self.prefix, index, field),
                                            RULE_DEFAULTS[field])
        rule_errors = any(k.startswith("rules") or k in LEVEL_FIELDS for k in self.errors)
        # Open while it has rules: adding the first one (a submit) must not fold it away.
        with st.expander("Rules", expanded=bool(count) or rule_errors):
            st.caption("Each rule fires when it holds over its window (or period), with its "
                       "own severity, and resolves when it no longer does. The window counts "
                       "for latency and failed-check rules; periods are calendar days, weeks "
                       "and months in UTC.")
            raw_rules = rules_from_state(st.session_state.to_dict(), self.prefix)
            for index in range(count):
                self.rule_slot(index, raw_rules[index])
            self.error("rules")
            st.form_submit_button("Add a rule", on_click=_add_rule, args=(self.prefix,),
                                  disabled=count >= MAX_RULES)
            st.markdown("**Warning and critical latency levels** (p95 over 5 minutes; "
                        "added as two rules, medium and critical)")
            warning, critical = st.columns(2)
            with warning:
                self.field(st.number_input, "Warning above (ms)", "latency_warning_ms",
                           min_value=1.0, step=100.0, value=None)
            with critical:
                self.field(st.number_input, "Critical above (ms)", "latency_critical_ms",
                           min_value=1.0, step=100.0, value=None)
            st.form_submit_button("Add the two levels", on_click=_add_latency_levels,
                                  args=(self.prefix,), disabled=count > MAX_RULES - 2)

    def rule_slot(self, index: int, raw: dict[str, Any]) -> None:
        def key(field: str) -> str:
            return rule_key(self.prefix, index, field)

        with st.container(border=True):
            kind, threshold, severity = st.columns([3, 2, 2])
            kind.selectbox(f"Rule {index + 1}", list(RULE_KINDS), key=key("kind"),
                           format_func=_rule_kind_label)
            threshold.number_input("Threshold (ms, % or days)", key=key("threshold"),
                                   min_value=0.0, step=1.0, value=None, format="%g")
            severity.selectbox("Severity", SEVERITIES, key=key("severity"),
                               format_func=severity_label)
            window, percentile, period = st.columns(3)
            window.number_input("Window (minutes)", key=key("window_minutes"), min_value=1,
                                max_value=1440, step=1)
            percentile.selectbox("Percentile (latency)", PERCENTILES, key=key("percentile"),
                                 format_func=_percentile_label)
            period.selectbox("Period (uptime)", PERIODS, key=key("period"))
            description = _shown_description(raw)
            if description:
                st.caption(description)
            for field, message in self.errors.items():
                if field == f"rules[{index}]" or field.startswith(f"rules[{index}]."):
                    part = field.removeprefix(f"rules[{index}]").lstrip(".").replace("_", " ")
                    st.error(f"Rule {index + 1}{', ' + part if part else ''}: {message}")
            st.form_submit_button(f"Remove rule {index + 1}", on_click=_remove_rule,
                                  args=(self.prefix, index))

    def escalation(self) -> None:
        current = escalation_settings()
        overridden = any(st.session_state.get(f"{self.prefix}{field}") is not None
                         or field in self.errors for field in OVERRIDE_FIELDS)
        with st.expander("Escalation", expanded=overridden):
            st.caption("This monitor's own reminders and flap threshold; blank: the setting "
                       "for every monitor (Alerting page), shown greyed.")
            for field in OVERRIDE_FIELDS:
                default = getattr(current, field)
                shown = "never" if field == "remind_every_minutes" and not default else default
                self.field(st.number_input, ESCALATION_LABELS[field], field, min_value=0,
                           step=1, value=None, placeholder=f"{shown} (every monitor's)",
                           help=ESCALATION_HELP.get(field))

    def kind_options(self, kind: str) -> None:
        if kind == "http":
            self.http()
        elif kind == "tls":
            self.cert()
            self.trust()
        elif kind == "tcp":
            self.option(st.number_input, "Degraded above (ms, 0 = never)", "degraded_above_ms",
                        step=10.0, min_value=0.0)
            self.addresses()
        elif kind == "dns":
            self.option(st.selectbox, "Record type", "record_type",
                        options=["A", "AAAA", "CNAME", "MX", "TXT", "NS"])
            self.option(st.text_input, "Resolver (optional)", "resolver",
                        placeholder="9.9.9.9")
            self.option(st.text_input, "Expected value (optional)", "expected")
        elif kind == "push":
            self.option(st.number_input, "Grace period (seconds)", "grace_seconds", step=10)


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
    facts = result.tls or {}
    if facts.get("address"):
        trusted = f" · trusted by {facts['trusted_by']}" if facts.get("trusted_by") else ""
        st.text(f"Answered by {facts['address']}{trusted}")


def _kind_label(kind: str) -> str:
    return KIND_LABELS[kind]


def _render_form(prefix: str, submit_label: str, on_submit: Callable[..., None],
                 slug: str | None = None) -> None:
    # Outside the form, so choosing a kind shows that kind's fields at once.
    kind = st.selectbox("Check type", list(KIND_LABELS), format_func=_kind_label,
                        key=f"{prefix}kind", on_change=_kind_changed, args=(prefix,)) or "http"
    fields = _Fields(prefix)
    with st.form(f"{prefix}monitor"):
        fields.field(st.text_input, "Name", "name", placeholder="API")
        if kind != "push":
            label, placeholder = TARGET_LABELS[kind]
            fields.field(st.text_input, label, "url", placeholder=placeholder)
        interval_label = (
            "Expected every (seconds)" if kind == "push" else "Check interval (seconds)"
        )
        fields.field(st.number_input, interval_label, "interval", step=10)
        fields.field(st.number_input, "Timeout (seconds)", "timeout", step=1.0)
        fields.kind_options(kind)
        with st.expander("Confirmation"):
            fields.field(st.number_input, "Down after this many failures in a row",
                         "failures_before_down", min_value=1, step=1)
            fields.field(st.number_input, "Up again after this many successes",
                         "successes_before_up", min_value=1, step=1)
            fields.field(st.number_input,
                         "Retry a failed check after (seconds, 0 = min(interval, 20 s))",
                         "retry_interval", min_value=0, step=5)
        fields.field(st.text_input, "Tags", "tags", placeholder="prod, api",
                     help="Comma-separated")
        fields.field(st.text_input, "Runbook link", "runbook_url",
                     placeholder="https://wiki.example.com/runbooks/api")
        fields.field(st.text_input, "Depends on", "depends_on", placeholder="db, load-balancer",
                     help="Addresses (slugs) of the monitors this one needs, comma-separated: "
                          "while one of them is down, this monitor's failures page nobody.")
        fields.field(st.selectbox, "Severity", "severity", options=SEVERITIES,
                     format_func=severity_label,
                     help="How urgent an outage is: routing and quiet hours use it, and the "
                          "incidents it opens take it.")
        fields.field(st.checkbox, "Show on the public status page", "public")
        fields.rules()
        fields.escalation()
        left, right = st.columns(2)
        with left:
            st.form_submit_button(submit_label, on_click=on_submit,
                                  args=() if slug is None else (slug,))
        with right:
            if kind != "push":
                st.form_submit_button("Test now", on_click=_test_now, args=(prefix, slug))
    # Errors of fields the form does not show (none today) must still reach the user.
    shown = {*FIELDS, *OVERRIDE_FIELDS, *LEVEL_FIELDS} | {
        k for k in fields.errors if "." in k or k.startswith("rules")}
    for field, message in fields.errors.items():
        if field not in shown:
            st.error(f"{field}: {message}")
    tested = st.session_state.get(f"{prefix}tested")
    if tested is not None:
        _show_test(tested)
    saved = st.session_state.pop(f"{prefix}saved", None)
    if saved:
        st.success(saved)


def render_add_monitor_form() -> None:
    st.subheader("Add a monitor")
    for key, value in default_form_state(ADD_PREFIX).items():
        st.session_state.setdefault(key, value)
    _render_form(ADD_PREFIX, "Add monitor", _add)


def load_clone_form(monitor: MonitorView) -> None:
    """Prefill the clone form with a copy of `monitor` (called when asked to clone it)."""
    st.session_state.update(clone_form_state(monitor, {m.name for m in list_monitors()}))
    st.session_state[_errors_key(CLONE_PREFIX)] = {}
    st.session_state.pop(f"{CLONE_PREFIX}tested", None)
    st.session_state.pop(CLONED_KEY, None)


def render_clone_monitor_form(source: MonitorView) -> None:
    """The add form, prefilled by `load_clone_form`: adding validates it like any new monitor.
    Once added, `CLONED_KEY` holds the copy's (name, slug)."""
    for key, value in default_form_state(CLONE_PREFIX).items():  # for a kind chosen since
        st.session_state.setdefault(key, value)
    _render_form(CLONE_PREFIX, "Add copy", _add_copy, source.slug)


def render_edit_monitor_form(monitor: MonitorView) -> None:
    """Edit every field of `monitor`; secrets show masked and are kept unless replaced."""
    load_edit_form(monitor)
    _render_form(EDIT_PREFIX, "Save changes", _save_edit, monitor.slug)
