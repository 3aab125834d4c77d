"""Slack, through the official slack_sdk: an incoming webhook, or a bot token and a channel.

A page's message carries an Acknowledge button. With the Slack app's signing secret stored on
the channel, the button is interactive: Slack posts the click to /slack/actions
(web/slack_actions), which checks Slack's signature and acknowledges. Without one, it is a link
to the acknowledgement page (the same signed link SMS and e-mail carry).
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient

from config.settings import Settings
from domain.formatting import format_duration
from notifiers.base import DEFAULT_TIMEOUT, TransportError, connection_error, parse_retry_after
from notifiers.base import header as header_value
from notifiers.message import Notice, format_timestamp, headline, label
from notifiers.templates import fallback_note, render_notice

_EMOJI = {
    "down": "🔴",
    "up": "🟢",
    "degraded": "🟠",
    "certificate": "🔐",
    "maintenance_start": "🔧",
    "maintenance_end": "🔧",
    "flapping": "🔁",
    "reminder": "⏰",
    "rule_firing": "🚨",
    "rule_resolved": "✅",
    "test": "🧪",
    "digest": "🗒️",
}

# Slack error codes that no retry can fix: the token, webhook or channel is wrong or gone.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_token", "invalid_auth", "not_authed", "token_revoked", "token_expired",
        "account_inactive", "no_service", "no_service_id", "no_team", "team_disabled",
        "channel_not_found", "channel_is_archived", "is_archived", "not_in_channel",
        "no_active_hooks", "action_prohibited", "posting_to_general_channel_denied",
        "missing_scope", "restricted_action", "invalid_payload", "invalid_blocks",
        "user_not_found", "invalid_arguments",
    }
)  # fmt: skip
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def escape_mrkdwn(text: str) -> str:
    # Slack's mrkdwn treats &, < and > as markup: a reason like "<html> not found" would vanish,
    # and "<!channel>" in a monitor's name would ping everyone.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


ACK_ACTION_ID = "acknowledge"  # the button's action, as /slack/actions receives it


def slack_message(notice: Notice, interactive: bool = False) -> dict[str, Any]:
    """`text` (shown in notifications and by old clients) and Block Kit `blocks`; an
    `interactive` Acknowledge button (see the module's docstring) or a link."""
    title = f"{_EMOJI[notice.kind]} {headline(notice)}"
    fields = [
        f"*State*\n{escape_mrkdwn(notice.state)}",
        f"*Since*\n{format_timestamp(notice.since)}",
    ]
    if notice.reason:
        fields.append(f"*Reason*\n{escape_mrkdwn(_clip(notice.reason, 1900))}")
    if notice.downtime is not None:
        fields.append(f"*Downtime*\n{format_duration(notice.downtime)}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(title, 150)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in fields]},
        *_links_and_context(notice, interactive),
    ]
    text = f"{label(notice)}: {headline(notice)}"
    if notice.reason:
        text += f" ({notice.reason})"
    return {"text": escape_mrkdwn(_clip(text, 3000)), "blocks": blocks}


def templated_slack_message(
    notice: Notice, template: str | None, interactive: bool = False
) -> tuple[dict[str, Any], str | None]:
    """The channel's template as the message (values escaped for mrkdwn), with the same buttons;
    the default message and the reason when the template cannot be used."""
    rendered = render_notice(template, notice, escape_mrkdwn)
    if rendered.text is None:
        return slack_message(notice, interactive), rendered.problem
    # A section's text holds 3000 characters; the top-level text is what notifications show.
    text = _clip(rendered.text, 3000)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        *_links_and_context(notice, interactive),
    ]
    return {"text": text, "blocks": blocks}, None


def ack_token_of(ack_url: str) -> str | None:
    """The signed token of an acknowledgement link (`/ack?t=<token>`, domain/links.ack_url)."""
    values = parse_qs(urlsplit(ack_url).query).get("t")
    return values[0] if values else None


def _ack_button(ack_url: str, interactive: bool) -> dict[str, Any]:
    token = ack_token_of(ack_url) if interactive else None
    if token is None:
        return _button("Acknowledge", ack_url, ACK_ACTION_ID, style="danger")
    # The link's own token: /slack/actions verifies it as /ack does, so a click acknowledges
    # exactly the incident, and within the time, the link would.
    return {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
            "action_id": ACK_ACTION_ID, "value": token, "style": "danger"}


def _links_and_context(notice: Notice, interactive: bool = False) -> list[dict[str, Any]]:
    buttons: list[dict[str, Any]] = [
        _button("Dashboard", notice.dashboard_url, "dashboard"),
        _button("Status page", notice.status_url, "status_page"),
    ]
    if notice.ack_url:
        buttons.append(_ack_button(notice.ack_url, interactive))
    if notice.runbook_url:
        buttons.append(_button("Runbook", notice.runbook_url, "runbook"))
    slug = escape_mrkdwn(notice.monitor_slug)
    return [
        {"type": "actions", "elements": buttons},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Upwatch · `{slug}`"}]},
    ]


def _button(text: str, url: str, action_id: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "url": url,
        "action_id": action_id,
    }
    if style:
        button["style"] = style
    return button


def classify(status: int, error: str, headers: Mapping[str, str] | None) -> TransportError:
    """Slack's answer as a retry decision; `error` is Slack's error code when it gave one."""
    detail = f"Slack answered HTTP {status}" + (f": {error}" if error else "")
    if status == 429 or error == "ratelimited":
        retry_after = parse_retry_after(header_value(headers, "Retry-After"))
        return TransportError(f"{detail} (rate limited)", retry_after=retry_after)
    if status >= 500 or error in TRANSIENT_ERRORS:
        return TransportError(detail)
    if error in PERMANENT_ERRORS or status in (400, 401, 403, 404, 410):
        return TransportError(
            f"{detail} (check the webhook URL, token and channel)", permanent=True
        )
    return TransportError(detail, permanent=True)


# The SDKs retry a failed connection once by default; `retry_handlers=[]` turns that off so every
# attempt is the dispatcher's, logged and paced by it (a silent retry after a reset connection can
# post the message twice).
_NETWORK_ERRORS = (OSError, http.client.HTTPException)


class SlackWebhookChannel:
    """An incoming webhook: the URL alone decides workspace and channel."""

    def __init__(
        self, webhook_url: str, *, name: str = "slack", timeout: float = DEFAULT_TIMEOUT,
        template: str = "", signing_secret: str | None = None,
    ) -> None:
        self.name = name
        self._template = template
        # The secret itself is /slack/actions' business: here it only means "buttons work".
        self._interactive = bool(signing_secret)
        self._client = WebhookClient(webhook_url, timeout=int(timeout), retry_handlers=[])

    def send(self, notice: Notice) -> str | None:
        message, problem = templated_slack_message(notice, self._template, self._interactive)
        try:
            response = self._client.send(
                text=message["text"], blocks=message["blocks"], unfurl_links=False
            )
        except SlackRequestError as error:
            # Not the SDK's text: it quotes the URL, and a webhook URL is a secret.
            raise TransportError(
                "Slack webhook URL is unusable: it must be an https:// URL", permanent=True
            ) from error
        except _NETWORK_ERRORS as error:
            raise connection_error("Slack", error) from error
        if response.status_code != 200:
            # Incoming webhooks answer errors as a bare code in a text body: "invalid_token".
            raise classify(response.status_code, response.body.strip(), response.headers)
        return fallback_note(problem)


class SlackBotChannel:
    """A bot token posting with chat.postMessage to one channel (ID or #name)."""

    def __init__(
        self,
        token: str,
        channel: str,
        *,
        name: str = "slack",
        base_url: str = WebClient.BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        template: str = "",
        signing_secret: str | None = None,
    ) -> None:
        self.name = name
        self.channel = channel
        self._template = template
        self._interactive = bool(signing_secret)
        self._client = WebClient(
            token=token, base_url=base_url, timeout=int(timeout), retry_handlers=[]
        )

    def send(self, notice: Notice) -> str | None:
        message, problem = templated_slack_message(notice, self._template, self._interactive)
        try:
            self._client.chat_postMessage(
                channel=self.channel,
                text=message["text"],
                blocks=message["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            response = error.response
            code = response.get("error", "") if isinstance(response.data, dict) else ""
            raise classify(response.status_code, code or "", response.headers) from error
        except SlackRequestError as error:
            raise TransportError(f"Slack request is unusable: {error}", permanent=True) from error
        except _NETWORK_ERRORS as error:
            raise connection_error("Slack", error) from error
        return fallback_note(problem)


def slack_channel_from_settings(settings: Settings) -> SlackWebhookChannel | None:
    """The default Slack channel from `UPWATCH_SLACK_WEBHOOK_URL`, or None when it is not set."""
    if settings.slack_webhook_url is None:
        return None
    return SlackWebhookChannel(settings.slack_webhook_url.get_secret_value())
