"""The kind-specific fields of the monitor form, and turning their values into input.

Kept apart from the widgets so the mapping (blank means "not set", text lists become lists) is
tested without a page. Keys in session state are `add_opt_<option name>`.
"""

from __future__ import annotations

from typing import Any

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
OPTION_PREFIX = "add_opt_"


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


def options_from_state(kind: str, state: dict[str, Any]) -> dict[str, Any]:
    """Options for `kind` from the form's values; blank fields are left to their defaults."""
    values = {k.removeprefix(OPTION_PREFIX): v for k, v in state.items()
              if k.startswith(OPTION_PREFIX)}
    wanted: dict[str, tuple[str, ...]] = {
        "http": ("method", "accepted_status_codes", "max_redirects", "verify_tls", "keyword",
                 "keyword_absent", "degraded_above_ms", "body", "basic_auth_user",
                 "basic_auth_password", "bearer_token", "cert_warning_days",
                 "cert_critical_days"),
        "tls": ("cert_warning_days", "cert_critical_days"),
        "tcp": ("degraded_above_ms",),
        "dns": ("record_type", "resolver", "expected"),
        "push": ("grace_seconds",),
    }
    options = {name: values[name] for name in wanted.get(kind, ())
               if name in values and not _blank(values[name])}
    if options.get("degraded_above_ms") == 0:
        options.pop("degraded_above_ms")  # 0 in the form means "no threshold"
    if kind == "http":
        headers = parse_headers(values.get("headers") or "")
        if headers:
            options["headers"] = headers
        if not _blank(values.get("json_path")):
            options["json_assertion"] = {
                "path": values["json_path"], "op": values.get("json_op") or "==",
                "expected": values.get("json_expected") or "",
            }
    return options
