"""The dashboard's template preview: what a channel would send for a sample outage, built by the
channel's own code (clipping, GSM-7 folding, escaping) and sent nowhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.notice_templates import TEMPLATE_KEYS, TemplateRefused, check_template
from notifiers.email import templated_email_message
from notifiers.message import Notice
from notifiers.pagerduty import pagerduty_events, templated_summary
from notifiers.slack import templated_slack_message
from notifiers.sms import templated_sms_text
from notifiers.templates import sample_down_notice
from notifiers.webhook import templated_webhook_text, webhook_payload

_SAMPLE_SENDER = "upwatch@example.com"
_SAMPLE_RECIPIENTS = ["on-call@example.com"]


@dataclass(frozen=True, slots=True)
class Preview:
    """One template's preview: the text that would go out, and why it is the default if it is."""

    key: str
    text: str
    error: str | None  # the template cannot be used: the default text above goes out instead
    is_default: bool


def _channel_text(kind: str, key: str, template: str, notice: Notice) -> tuple[str, str | None]:
    """(the text that would be sent, the reason the template was not used)."""
    if kind in ("slack_webhook", "slack_bot"):
        message, problem = templated_slack_message(notice, template)
        return str(message["text"]), problem
    if kind == "sms":
        return templated_sms_text(notice, template)
    if kind == "email":
        mail, problem = templated_email_message(
            notice, _SAMPLE_SENDER, _SAMPLE_RECIPIENTS,
            **{"subject_template" if key == "subject_template" else "body_template": template})
        if key == "subject_template":
            return str(mail["Subject"]), problem
        plain = mail.get_body(("plain",))
        return (str(plain.get_content()) if plain is not None else ""), problem
    if kind == "webhook":
        text, problem = templated_webhook_text(notice, template)
        return text if text is not None else str(webhook_payload(notice)["text"]), problem
    if kind == "pagerduty":
        summary, problem = templated_summary(notice, template)
        trigger = pagerduty_events(notice, "preview", summary)[0]  # the sample is an outage
        return str(trigger["payload"]["summary"]), problem
    raise ValueError(f"unknown channel kind {kind!r}")


def preview_templates(kind: str, config: Mapping[str, object], public_url: str) -> list[Preview]:
    """Each template of `kind` in `config` (unsaved form values) rendered for a sample outage."""
    notice = sample_down_notice(public_url)
    previews = []
    for key in TEMPLATE_KEYS.get(kind, ()):
        template = str(config.get(key) or "")
        refusal = None
        if template.strip():
            try:
                check_template(template)
            except TemplateRefused as refused:
                refusal = str(refused)
        text, problem = _channel_text(kind, key, template if refusal is None else "", notice)
        previews.append(Preview(key, text, refusal or problem, not template.strip() or
                                bool(refusal or problem)))
    return previews
