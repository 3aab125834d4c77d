"""The channel form: which fields each kind of channel has, and form values -> a ChannelSpec.

Pure (no Streamlit): the page collects values, this module says what is wrong with them, field by
field, and the page saves nothing unless every field is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from alerting.routing import parse_clock
from domain.limits import parse_time_zone
from domain.monitor_input import InvalidInput
from domain.notice_templates import TEMPLATE_FIELDS, TEMPLATE_KEYS, template_errors
from domain.severity import SEVERITY_CHOICES, SEVERITY_RANK
from notifiers.registry import CHANNEL_FIELDS
from storage.alerting_admin import ChannelSpec
from storage.alerting_models import ALL_EVENTS

KIND_LABELS = {
    "slack_webhook": "Slack (incoming webhook)",
    "slack_bot": "Slack (bot token + channel)",
    "sms": "SMS (Twilio)",
    "email": "E-mail (SMTP)",
    "webhook": "Generic webhook (JSON, HMAC-signed)",
    "pagerduty": "PagerDuty (Events API v2)",
}
EVENT_LABELS = {
    "down": "Down", "up": "Recovered", "degraded": "Degraded",
    "certificate": "Certificate expiring", "maintenance": "Maintenance start/end",
}
SECURITY_CHOICES = ("starttls", "ssl", "none")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    label: str
    required: bool = True
    secret: bool = False
    help: str | None = None
    placeholder: str | None = None


SLACK_SIGNING_SECRET = FieldSpec(
    "signing_secret", "Signing secret", required=False, secret=True,
    help="The Slack app's signing secret (Basic Information): the Acknowledge button then "
         "acknowledges in Slack, with the app's Interactivity request URL set to "
         "<public URL>/slack/actions. Empty: the button opens the acknowledgement page.")

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "slack_webhook": (
        FieldSpec("webhook_url", "Webhook URL", secret=True,
                  placeholder="https://hooks.slack.com/services/..."),
        SLACK_SIGNING_SECRET,
    ),
    "slack_bot": (
        FieldSpec("token", "Bot token", secret=True, placeholder="xoxb-..."),
        FieldSpec("channel", "Slack channel", placeholder="#ops or C0123456"),
        FieldSpec("base_url", "API base URL", required=False,
                  help="Leave empty for Slack itself."),
        SLACK_SIGNING_SECRET,
    ),
    "sms": (
        FieldSpec("account_sid", "Account SID", placeholder="AC..."),
        FieldSpec("auth_token", "Auth token", secret=True),
        FieldSpec("sender", "From number", placeholder="+15005550006"),
        FieldSpec("recipients", "To numbers", placeholder="+4915112345678, +4915187654321",
                  help="Comma-separated, in international format."),
        FieldSpec("api_base", "API base URL", required=False,
                  help="A Twilio-compatible API; leave empty for Twilio itself."),
    ),
    "email": (
        FieldSpec("host", "SMTP host", placeholder="smtp.example.com"),
        FieldSpec("port", "SMTP port", placeholder="587"),
        FieldSpec("security", "Security"),
        FieldSpec("sender", "From address", placeholder="upwatch@example.com"),
        FieldSpec("recipients", "To addresses", help="Comma-separated."),
        FieldSpec("username", "Login name", required=False),
        FieldSpec("password", "Password", required=False, secret=True),
    ),
    "webhook": (
        FieldSpec("url", "URL", placeholder="https://example.com/hooks/upwatch"),
        FieldSpec("secret", "HMAC secret", required=False, secret=True,
                  help="Signs each request (X-Upwatch-Signature); leave empty for unsigned."),
    ),
    "pagerduty": (
        FieldSpec("routing_key", "Routing key", secret=True,
                  help="The integration key of an Events API v2 service."),
        FieldSpec("base_url", "Events API URL", required=False,
                  help="Leave empty for PagerDuty itself."),
    ),
}

_VALUES_ESCAPED = "Field values are escaped; your own text is sent as written."
TEMPLATE_HELP = {
    ("slack_webhook", "text_template"): "Slack mrkdwn (`*bold*`, `<url|label>`, `<!here>`). "
                                        + _VALUES_ESCAPED,
    ("slack_bot", "text_template"): "Slack mrkdwn (`*bold*`, `<url|label>`, `<!here>`). "
                                    + _VALUES_ESCAPED,
    ("sms", "text_template"): "Plain text, sent as one SMS: folded to GSM-7 and cut at 160.",
    ("email", "subject_template"): "One line, at most 250 characters.",
    ("email", "body_template"): "Sent as plain text, and as HTML with field values escaped.",
    ("webhook", "text_template"): "The payload's \"text\" field; the rest of the JSON stays.",
    ("pagerduty", "summary_template"): "One line, at most 1024 characters.",
}
TEMPLATE_LABELS = {"text_template": "Message template", "subject_template": "Subject template",
                   "body_template": "Body template", "summary_template": "Summary template"}
FIELDS_HELP = "\n".join(f"- `{name}`: {about}" for name, about in TEMPLATE_FIELDS.items())
TEMPLATES_CAPTION = (
    "Jinja2, sandboxed; empty uses the built-in text. Fields: "
    + ", ".join(f"`{name}`" for name in TEMPLATE_FIELDS)
    + ". `{% if reason %}`…`{% endif %}`, filters such as `| upper`, `| truncate(40)`, "
      "`| default('none', true)` (for an empty field). No loops. A template that fails when a "
      "page goes out is replaced by the built-in text, and the channel shows why."
)


def template_keys(kind: str) -> tuple[str, ...]:
    return TEMPLATE_KEYS.get(kind, ())


# The form and the registry must agree, or a saved channel could not be built.
assert all(
    {f.key for f in FIELDS[kind] if not f.secret} == set(plain)
    and {f.key for f in FIELDS[kind] if f.secret} == set(secret)
    for kind, (plain, secret) in CHANNEL_FIELDS.items()
)


def _url_error(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        return "start the URL with https:// (or http://)"
    if not parts.hostname:
        return "the URL has no host name"
    return None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _check_field(kind: str, key: str, value: str) -> str | None:
    """What is wrong with one non-empty value, or None."""
    if key in ("webhook_url", "base_url", "api_base", "url"):
        return _url_error(value)
    if key == "port" and not (value.isdigit() and 1 <= int(value) <= 65535):
        return "give a port number between 1 and 65535"
    if key == "security" and value not in SECURITY_CHOICES:
        return "choose starttls, ssl or none"
    if kind == "sms" and key in ("sender", "recipients"):
        bad = [n for n in _split(value) if not E164.match(n)]
        if bad:
            return f"use international format (+ and digits, e.g. +4915112345678): {bad[0]!r}"
    if kind == "email" and key in ("sender", "recipients"):
        bad = [a for a in _split(value) if not EMAIL.match(a)]
        if bad:
            return f"{bad[0]!r} is not an e-mail address"
    if kind == "slack_bot" and key == "channel" and " " in value:
        return "a Slack channel name has no spaces: #ops, or its ID like C0123456"
    return None


def parse_channel_form(
    values: dict[str, object], stored_secrets: frozenset[str] = frozenset(),
    settings_from_env: bool = False,
) -> ChannelSpec:
    """Validate form values; InvalidInput maps each bad field to what to fix.

    `stored_secrets` names the secrets already saved for this channel (same kind): an empty
    field keeps them. `settings_from_env` is for environment channels, whose connection settings
    live in the environment: only routing is read from the form.
    """
    errors: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = "give the channel a name"
    elif len(name) > 64:
        errors["name"] = "use at most 64 characters"
    kind = str(values.get("kind") or "")
    if kind not in FIELDS:
        errors["kind"] = "choose a channel type"
    config: dict[str, object] = {}
    secrets: dict[str, str] = {}
    if kind in FIELDS and not settings_from_env:
        for field in FIELDS[kind]:
            value = str(values.get(field.key) or "").strip()
            if not value:
                if field.required and not (field.secret and field.key in stored_secrets):
                    errors[field.key] = f"{field.label} is required"
                (secrets if field.secret else config)[field.key] = ""
                continue
            problem = _check_field(kind, field.key, value)
            if problem:
                errors[field.key] = problem
            (secrets if field.secret else config)[field.key] = value
    if kind in FIELDS:
        # Templates as typed; a blank one is left out (the built-in text). Environment
        # channels have templates too.
        for key in template_keys(kind):
            text = str(values.get(key) or "")
            if text.strip():
                config[key] = text
        errors.update(template_errors(kind, config))
    chosen = values.get("events") or []
    events = [str(e) for e in chosen] if isinstance(chosen, list | tuple) else []
    if not events:
        errors["events"] = "choose at least one event, or disable the channel"
    elif unknown := [e for e in events if e not in ALL_EVENTS]:
        errors["events"] = f"unknown event {unknown[0]!r}"
    escalate = values.get("escalate_after_minutes") or 0
    if not isinstance(escalate, int | float) or not 0 <= escalate <= 1440:
        errors["escalate_after_minutes"] = "give 0 (at once) up to 1440 minutes"
    quiet_start, quiet_end = _quiet_hours(values, errors)
    zone = str(values.get("quiet_timezone") or "UTC").strip()
    try:
        parse_time_zone(zone)
    except ValueError as refused:
        errors["quiet_timezone"] = str(refused)
    severity = str(values.get("quiet_min_severity") or "critical")
    if severity not in SEVERITY_RANK:
        errors["quiet_min_severity"] = f"choose {SEVERITY_CHOICES}"
    if errors:
        raise InvalidInput(errors)
    return ChannelSpec(
        name=name, kind=kind, config=config, secrets=secrets, events=events,
        enabled=bool(values.get("enabled", True)),
        escalate_after_minutes=int(escalate) if isinstance(escalate, int | float) else 0,
        quiet_start=quiet_start, quiet_end=quiet_end, quiet_timezone=zone,
        quiet_min_severity=severity,
    )


def _quiet_hours(values: dict[str, object], errors: dict[str, str]) -> tuple[str | None, ...]:
    texts = [str(values.get(key) or "").strip() for key in ("quiet_start", "quiet_end")]
    if not any(texts):
        return None, None
    parsed = []
    for key, text in zip(("quiet_start", "quiet_end"), texts, strict=True):
        clock = parse_clock(text) if text else None
        if clock is None:
            errors[key] = "give a time of day as HH:MM (both start and end), or leave both empty"
        parsed.append(clock)
    if parsed[0] is not None and parsed[0] == parsed[1]:
        errors["quiet_end"] = "the quiet hours end when they start: leave both empty for none"
    return parsed[0], parsed[1]
