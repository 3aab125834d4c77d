"""The monitor form's values: defaults, prefilling from a saved monitor, turning them into input.

Kept apart from the widgets so the mapping (blank means "not set", text lists become lists,
secrets shown masked) is tested without a page. The add form's keys in session state are
`add_<field>` and `add_opt_<option name>`; the edit form uses the prefix `edit_`, the add form
prefilled with a copy of a monitor `clone_`.
"""

from __future__ import annotations

from typing import Any

from domain.certificates import CERT_CRITICAL_DAYS, CERT_WARNING_DAYS
from domain.check_options import JsonAssertion
from domain.escalation import RANGES
from domain.limits import MAX_NAME_CHARS
from domain.monitor_input import OPTION_MODELS, masked_options
from domain.severity import DEFAULT_SEVERITY
from domain.window_rules import DEFAULT_PERCENTILE, KIND_FIELDS, MAX_RULES
from storage.monitors import MonitorView

KIND_LABELS = {
    "http": "HTTP(S) endpoint",
    "tls": "TLS certificate (host:port)",
    "tcp": "TCP port (host:port)",
    "dns": "DNS record",
    "push": "Push / heartbeat",
}
TARGET_LABELS = {
    "http": ("URL", "https://api.example.com/health"),
    "tls": ("Host and port", "example.com:443"),
    "tcp": ("Host and port", "db.internal:5432"),
    "dns": ("Name to look up", "example.com"),
}
ADD_PREFIX = "add_"
EDIT_PREFIX = "edit_"
CLONE_PREFIX = "clone_"  # the add form, prefilled from a monitor to copy
OPTION_PREFIX = f"{ADD_PREFIX}opt_"
FIELDS = ("name", "url", "interval", "timeout", "public", "failures_before_down",
          "successes_before_up", "retry_interval", "tags", "runbook_url", "severity",
          "depends_on")

# What each widget starts with; the types match the widgets (int steps stay int).
FIELD_DEFAULTS: dict[str, Any] = {
    "name": "", "url": "", "interval": 60, "timeout": 10.0, "public": False,
    "failures_before_down": 2, "successes_before_up": 1, "retry_interval": 0,
    "tags": "", "runbook_url": "",  # tags as the comma-separated text the input shows
    "severity": DEFAULT_SEVERITY,
    "depends_on": "",  # the parents' slugs as comma-separated text, like the tags
}
# A monitor's own reminder and flap settings: blank (None) keeps the global setting, so they
# are always sent (an edit that blanks one clears it).
OVERRIDE_FIELDS = tuple(RANGES)
# The rules are numbered slots: `<prefix>rule<i>_<field>`, `<prefix>rule_count` of them. Each
# slot shows every field; only those its kind takes are sent.
RULE_COUNT = "rule_count"
RULE_FIELDS = ("kind", "threshold", "severity", "window_minutes", "percentile", "period")
RULE_DEFAULTS: dict[str, Any] = {
    "kind": "latency", "threshold": None, "severity": DEFAULT_SEVERITY, "window_minutes": 5,
    "percentile": DEFAULT_PERCENTILE, "period": "month",
}
# The two latency levels offered as a pair, added to the rules as two slots.
LEVEL_FIELDS = ("latency_warning_ms", "latency_critical_ms")
OPTION_DEFAULTS: dict[str, Any] = {
    "method": "GET", "accepted_status_codes": "200-299", "keyword": "", "keyword_absent": False,
    "degraded_above_ms": 0.0, "max_redirects": 5, "verify_tls": True, "headers": "", "body": "",
    "basic_auth_user": "", "basic_auth_password": "", "bearer_token": "", "json_path": "",
    "json_op": "==", "json_expected": "", "cert_warning_days": CERT_WARNING_DAYS,
    "cert_critical_days": CERT_CRITICAL_DAYS, "keep_headers_on_redirect": False,
    "record_type": "A", "resolver": "", "expected": "", "grace_seconds": 60,
    "ca_bundle": "", "client_certificate": "", "client_key": "", "ip_version": "any",
}
IP_VERSION_LABELS = {"any": "Any (IPv6 and IPv4)", "ipv4": "IPv4 only", "ipv6": "IPv6 only"}
_TRUST_OPTIONS = ("ca_bundle", "client_certificate", "client_key", "ip_version")
# The options each kind's fields set (headers and the JSON assertion are assembled apart).
KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "http": ("method", "accepted_status_codes", "max_redirects", "verify_tls",
             "keep_headers_on_redirect", "keyword",
             "keyword_absent", "degraded_above_ms", "body", "basic_auth_user",
             "basic_auth_password", "bearer_token", "cert_warning_days", "cert_critical_days",
             *_TRUST_OPTIONS),
    "tls": ("cert_warning_days", "cert_critical_days", *_TRUST_OPTIONS),
    "tcp": ("degraded_above_ms", "ip_version"),
    "dns": ("record_type", "resolver", "expected"),
    "push": ("grace_seconds",),
}


def option_key(prefix: str, name: str) -> str:
    return f"{prefix}opt_{name}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_headers(text: str) -> dict[str, str]:
    """'Name: value' per line."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
    return headers


def _model_default(kind: str, name: str) -> Any:
    field = OPTION_MODELS[kind].model_fields[name]
    return field.get_default(call_default_factory=True)


def options_from_state(
    kind: str, state: dict[str, Any], prefix: str = ADD_PREFIX, complete: bool = False
) -> dict[str, Any]:
    """Options for `kind` from the form's values.

    Blank fields are left to their defaults. With `complete` (an edit, merged into the stored
    options), a blank field is sent as its default explicitly, so clearing a field clears it.
    """
    option_prefix = option_key(prefix, "")
    values = {k.removeprefix(option_prefix): v for k, v in state.items()
              if k.startswith(option_prefix)}
    options: dict[str, Any] = {}
    for name in KIND_OPTIONS.get(kind, ()):
        if name in values and not _blank(values[name]):
            options[name] = values[name]
        elif complete:
            options[name] = _model_default(kind, name)
    if options.get("degraded_above_ms") == 0:
        options.pop("degraded_above_ms")  # 0 in the form means "no threshold"
        if complete:
            options["degraded_above_ms"] = None
    if kind == "http":
        headers = parse_headers(values.get("headers") or "")
        if headers or complete:
            options["headers"] = headers
        if not _blank(values.get("json_path")):
            options["json_assertion"] = {
                "path": values["json_path"], "op": values.get("json_op") or "==",
                "expected": values.get("json_expected") or "",
            }
        elif complete:
            options["json_assertion"] = None
    return options


def form_values(state: dict[str, Any], prefix: str, complete: bool = False) -> dict[str, Any]:
    """The monitor input the form's state describes, ready for validation."""
    kind = state.get(f"{prefix}kind", "http")
    values = {field: state.get(f"{prefix}{field}") for field in FIELDS}
    values = {k: v for k, v in values.items() if v is not None}
    if kind == "push":
        values["url"] = ""  # a push monitor has no target; an old one must not linger
    options = options_from_state(kind, state, prefix, complete=complete)
    overrides = {field: state.get(f"{prefix}{field}") for field in OVERRIDE_FIELDS}
    return {**values, **overrides, "rules": rules_from_state(state, prefix), "kind": kind,
            "options": options}


def rule_key(prefix: str, index: int, field: str) -> str:
    return f"{prefix}rule{index}_{field}"


def rule_count(state: dict[str, Any], prefix: str) -> int:
    return int(state.get(f"{prefix}{RULE_COUNT}") or 0)


def rules_from_state(state: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The rules the slots describe, each with the fields its kind takes (a blank threshold is
    sent blank, and refused naming the slot)."""
    rules: list[dict[str, Any]] = []
    for index in range(rule_count(state, prefix)):
        def value(field: str, i: int = index) -> Any:
            return state.get(rule_key(prefix, i, field), RULE_DEFAULTS[field])

        kind = value("kind")
        rule = {"kind": kind, "threshold": value("threshold"), "severity": value("severity")}
        rule.update({field: value(field) for field in KIND_FIELDS.get(kind, ())})
        rules.append(rule)
    return rules


def rule_slots_state(prefix: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots' widget values showing `rules` (stored or raw rule objects)."""
    state: dict[str, Any] = {f"{prefix}{RULE_COUNT}": len(rules)}
    for index, rule in enumerate(rules):
        for field in RULE_FIELDS:
            given = rule.get(field)
            shown = RULE_DEFAULTS[field] if given is None else given
            if field == "threshold" and shown is not None:
                shown = float(shown)
            state[rule_key(prefix, index, field)] = shown
    return state


def with_rules_added(state: dict[str, Any], prefix: str,
                     added: list[dict[str, Any]]) -> dict[str, Any]:
    """The slot values after appending `added` (at most MAX_RULES slots in all)."""
    rules = rules_from_state(state, prefix)
    return rule_slots_state(prefix, [*rules, *added][:max(MAX_RULES, len(rules))])


def with_rule_removed(state: dict[str, Any], prefix: str, index: int) -> dict[str, Any]:
    """The slot values after removing slot `index` (the later ones move up)."""
    rules = rules_from_state(state, prefix)
    return rule_slots_state(prefix, [r for i, r in enumerate(rules) if i != index])


def default_form_state(prefix: str) -> dict[str, Any]:
    return {
        **{f"{prefix}{field}": value for field, value in FIELD_DEFAULTS.items()},
        **{option_key(prefix, name): value for name, value in OPTION_DEFAULTS.items()},
        **{f"{prefix}{field}": None for field in (*OVERRIDE_FIELDS, *LEVEL_FIELDS)},
        f"{prefix}{RULE_COUNT}": 0,
    }


def _option_widget_values(options: dict[str, Any]) -> dict[str, Any]:
    """Stored (already masked) options as the widgets show them."""
    shown: dict[str, Any] = {}
    for name, value in options.items():
        if name == "headers":
            shown["headers"] = "\n".join(f"{k}: {v}" for k, v in (value or {}).items())
        elif name == "json_assertion":
            # Read as stored, not validated: one saved before a rule tightened must still show
            # (and be refused with a message when saved again), not break the edit form.
            if isinstance(value, dict):
                shown.update(json_path=str(value.get("path", "")),
                             json_op=str(value.get("op", JsonAssertion.model_fields["op"].default)),
                             json_expected=str(value.get("expected", "")))
        elif name == "accepted_status_codes":
            shown[name] = ", ".join(str(code) for code in value or [])
        elif name in OPTION_DEFAULTS:
            default = OPTION_DEFAULTS[name]
            if value is None:
                shown[name] = default
            elif isinstance(default, float):
                shown[name] = float(value)
            else:
                shown[name] = value
    return shown


def form_state_from_monitor(monitor: MonitorView, prefix: str = EDIT_PREFIX) -> dict[str, Any]:
    """Every widget's value for editing `monitor`; secrets appear only as SECRET_MASK."""
    state = default_form_state(prefix)
    state[f"{prefix}kind"] = monitor.kind
    state.update({
        f"{prefix}name": monitor.name, f"{prefix}url": monitor.url,
        f"{prefix}interval": int(monitor.interval), f"{prefix}timeout": float(monitor.timeout),
        f"{prefix}public": monitor.public,
        f"{prefix}failures_before_down": monitor.failures_before_down,
        f"{prefix}successes_before_up": monitor.successes_before_up,
        f"{prefix}retry_interval": monitor.retry_interval or 0,
        f"{prefix}tags": ", ".join(monitor.tags),
        f"{prefix}runbook_url": monitor.runbook_url or "",
        f"{prefix}severity": monitor.severity,
        f"{prefix}depends_on": ", ".join(monitor.depends_on),
        **{f"{prefix}{field}": getattr(monitor, field) for field in OVERRIDE_FIELDS},
        **rule_slots_state(prefix, list(monitor.rules)),
    })
    shown = _option_widget_values(masked_options(monitor.options, monitor.kind))
    state.update({option_key(prefix, name): value for name, value in shown.items()})
    return state



def copy_name(name: str, taken: set[str], max_chars: int = MAX_NAME_CHARS) -> str:
    """The name of a copy of `name`: "<name> (copy)", else "(copy 2)", "(copy 3)", ... the first
    not in `taken`; `name` is shortened so the suffix fits the name's limit."""
    n = 1
    while True:
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[:max_chars - len(suffix)].rstrip() + suffix
        if candidate not in taken:
            return candidate
        n += 1


def clone_form_state(monitor: MonitorView, taken_names: set[str]) -> dict[str, Any]:
    """The add form's values copying `monitor`: every setting (secrets masked; the copy keeps
    the stored ones unless replaced), under a name of its own."""
    state = form_state_from_monitor(monitor, CLONE_PREFIX)
    state[f"{CLONE_PREFIX}name"] = copy_name(monitor.name, taken_names)
    return state
