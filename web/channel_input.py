"""A channel's API body -> the dashboard channel form's values, checked by the form's own rule
(ui/alerting_forms.parse_channel_form, passed in by the composition root: web/ does not import
ui/), so the API refuses exactly what the Alerting page refuses, with the field named as the
body has it (`settings.webhook_url`, `quiet_start`; `start` for the quiet hours' own route).

Secrets are write-only: a secret setting sent empty, or as the mask the API shows, keeps the
stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.limits import MAX_LINE_CHARS, InvalidInput, text_problem
from domain.monitor_input import SECRET_MASK
from domain.notice_templates import MAX_TEMPLATE_CHARS, TEMPLATE_KEYS
from notifiers.registry import CHANNEL_FIELDS
from storage.alerting_admin import ChannelSpec, ChannelView
from web.admin_api_models import ChannelInput, QuietHours, parsed

# The dashboard form's check: (values, stored secret names, settings from the environment).
ChannelParser = Callable[[dict[str, object], frozenset[str], bool], ChannelSpec]
ROUTING_FIELDS = ("events", "enabled", "escalate_after_minutes", "quiet_start", "quiet_end",
                  "quiet_timezone", "quiet_min_severity")
QUIET_FIELDS = {"start": "quiet_start", "end": "quiet_end", "timezone": "quiet_timezone",
                "min_severity": "quiet_min_severity"}


def secret_keys(kind: str) -> tuple[str, ...]:
    return CHANNEL_FIELDS.get(kind, ((), ()))[1]


def setting_keys(kind: str, from_env: bool = False) -> tuple[str, ...]:
    """The settings a channel of `kind` takes (an environment channel: its templates only)."""
    plain, secret = CHANNEL_FIELDS.get(kind, ((), ()))
    templates = TEMPLATE_KEYS.get(kind, ())
    return templates if from_env else (*plain, *secret, *templates)


def shown_settings(channel: ChannelView) -> dict[str, str]:
    """Its plain settings and templates, and each stored secret as the mask (never its value)."""
    shown = {k: str(v) for k, v in channel.config.items() if v not in ("", None)}
    shown.update({key: SECRET_MASK for key in sorted(channel.stored_secrets)})
    return shown


def as_input(channel: ChannelView) -> dict[str, Any]:
    """The stored channel as a create body would give it (secrets left out: kept)."""
    settings = {k: v for k, v in shown_settings(channel).items() if v != SECRET_MASK}
    return {"name": channel.name, "kind": channel.kind, "settings": settings,
            "events": list(channel.events), "enabled": channel.enabled,
            "escalate_after_minutes": channel.escalate_after_minutes,
            "quiet_start": channel.quiet_start, "quiet_end": channel.quiet_end,
            "quiet_timezone": channel.quiet_timezone,
            "quiet_min_severity": channel.quiet_min_severity}


def _refused_settings(kind: str, settings: Mapping[str, str], from_env: bool) -> dict[str, str]:
    allowed = setting_keys(kind, from_env)
    templates = TEMPLATE_KEYS.get(kind, ())
    errors: dict[str, str] = {}
    for key, value in settings.items():
        if key not in allowed:
            errors[f"settings.{key}"] = (
                "this channel's connection comes from the environment: only its templates "
                f"({', '.join(templates) or 'none'}) are set here" if from_env
                else f"unknown setting: use {', '.join(allowed)}")
        elif problem := text_problem(
                value, MAX_TEMPLATE_CHARS if key in templates else MAX_LINE_CHARS,
                multi_line=key in templates, subject=f"the {key.replace('_', ' ')}"):
            errors[f"settings.{key}"] = problem
    return errors


def _form_values(body: ChannelInput) -> dict[str, object]:
    values: dict[str, object] = {"name": body.name, "kind": body.kind}
    secrets = secret_keys(body.kind)
    values.update({k: ("" if k in secrets and v == SECRET_MASK else v)
                   for k, v in body.settings.items()})
    values.update({field: getattr(body, field) for field in ROUTING_FIELDS})
    return values


def _named_as_sent(errors: Mapping[str, str], kind: str,
                   renamed: Mapping[str, str] | None = None) -> dict[str, str]:
    """The form's field names as the body has them."""
    settings = set(setting_keys(kind))
    named: dict[str, str] = {}
    for field, message in errors.items():
        shown = (renamed or {}).get(field) or (f"settings.{field}" if field in settings
                                               else field)
        named[shown] = message
    return named


def channel_spec(body: dict[str, Any], current: ChannelView | None,
                 check: ChannelParser) -> ChannelSpec:
    """The channel `body` asks for: a new one (`current` None) or `current` with the fields
    given changed (settings key by key); InvalidInput naming each wrong field."""
    if current is not None:
        refused = {}
        if "kind" in body and body["kind"] != current.kind:
            refused["kind"] = "a channel's kind cannot change: make a new channel"
        if current.source == "env" and "name" in body and body["name"] != current.name:
            refused["name"] = "an environment channel keeps its name"
        if refused:
            raise InvalidInput(refused)
        stored = as_input(current)
        given = body.get("settings", {})
        merged = {**stored, **body,
                  "settings": {**stored["settings"], **given} if isinstance(given, dict)
                  else given}
    else:
        merged = body
    wanted: ChannelInput = parsed(ChannelInput, merged)
    from_env = current is not None and current.source == "env"
    if errors := _refused_settings(wanted.kind, wanted.settings, from_env):
        raise InvalidInput(errors)
    kept = current.stored_secrets if current is not None else frozenset()
    try:
        return check(_form_values(wanted), kept, from_env)
    except InvalidInput as refused:
        raise InvalidInput(_named_as_sent(refused.errors, wanted.kind)) from None


def quiet_hours_spec(body: dict[str, Any], current: ChannelView,
                     check: ChannelParser) -> ChannelSpec:
    """`current` with its quiet hours replaced by `body`'s (a QuietHours); checked as the
    Alerting page checks the whole channel."""
    hours: QuietHours = parsed(QuietHours, body)
    values = _form_values(parsed(ChannelInput, as_input(current)))
    values.update({QUIET_FIELDS[k]: v for k, v in hours.model_dump().items()})
    try:
        return check(values, current.stored_secrets, current.source == "env")
    except InvalidInput as refused:
        back = {form: api for api, form in QUIET_FIELDS.items()}
        raise InvalidInput(_named_as_sent(refused.errors, current.kind, back)) from None
