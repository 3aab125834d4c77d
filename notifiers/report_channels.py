"""A scheduled report sent to one channel in that channel's form: e-mail with the CSV
attached (through the channel's own SMTP connection), Slack as Block Kit (webhook or bot, with
the SDKs set up as notifiers/slack.py sets them: no silent retries), a webhook as JSON with the
plain text, signed as every webhook is. Errors are TransportErrors, read as the alert channels'
(notifiers/base, notifiers/slack.classify), so the outbox retries or stops the same way."""

from __future__ import annotations

import http.client
import json
import ssl
import time as clock
from datetime import datetime
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient

from config.settings import Settings
from notifiers.base import DEFAULT_TIMEOUT, TransportError, connection_error, error_for_status
from notifiers.email import EmailChannel
from notifiers.registry import ChannelUnusable, build_channel, channel_settings
from notifiers.report_messages import report_email, report_slack, report_text
from notifiers.slack import classify
from notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, USER_AGENT, sign
from storage.report_outbox import ClaimedReport


def _slack_webhook(url: str, message: dict[str, Any]) -> None:
    client = WebhookClient(url, timeout=int(DEFAULT_TIMEOUT), retry_handlers=[])
    try:
        response = client.send(text=message["text"], blocks=message["blocks"],
                               unfurl_links=False)
    except SlackRequestError as error:
        # Not the SDK's text: it quotes the URL, and a webhook URL is a secret.
        raise TransportError("Slack webhook URL is unusable: it must be an https:// URL",
                             permanent=True) from error
    except (OSError, http.client.HTTPException) as error:
        raise connection_error("Slack", error) from error
    if response.status_code != 200:
        raise classify(response.status_code, response.body.strip(), response.headers)


def _slack_bot(config: dict, token: str, message: dict[str, Any]) -> None:
    client = WebClient(token=token, base_url=config.get("base_url") or WebClient.BASE_URL,
                       timeout=int(DEFAULT_TIMEOUT), retry_handlers=[])
    try:
        client.chat_postMessage(channel=config["channel"], text=message["text"],
                                blocks=message["blocks"], unfurl_links=False,
                                unfurl_media=False)
    except SlackApiError as error:
        response = error.response
        code = response.get("error", "") if isinstance(response.data, dict) else ""
        raise classify(response.status_code, code or "", response.headers) from error
    except SlackRequestError as error:
        raise TransportError(f"Slack request is unusable: {error}", permanent=True) from error
    except (OSError, http.client.HTTPException) as error:
        raise connection_error("Slack", error) from error


def _webhook(url: str, secret: str | None, report: ClaimedReport) -> None:
    """version 1 of the webhook payload's envelope, with `kind` "report"."""
    body = json.dumps({
        "version": 1, "event_id": f"report-{report.run_id}", "kind": "report",
        "text": report_text(report.content), "report": report.content.to_json(),
    }, separators=(",", ":")).encode()
    timestamp = str(int(clock.time()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Upwatch-Event": "report", "X-Upwatch-Event-Id": f"report-{report.run_id}",
               TIMESTAMP_HEADER: timestamp}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    try:
        with httpx.Client(timeout=DEFAULT_TIMEOUT, verify=ssl.create_default_context(),
                          follow_redirects=False) as client:
            response = client.post(url, content=body, headers=headers)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        raise TransportError("webhook URL is unusable: it must be an http:// or https:// URL",
                             permanent=True) from error
    except httpx.HTTPError as error:
        # The host only: webhook URLs often carry a token in their path.
        raise connection_error(f"webhook host {httpx.URL(url).host}", error) from error
    if not response.is_success:
        raise error_for_status("webhook", response.status_code, response.text[:200],
                               response.headers)


def send_report(report: ClaimedReport, settings: Settings, now: datetime) -> None:
    """Send one claimed report to its channel; TransportError when it did not go out."""
    row = report.channel
    kind, config, secrets = channel_settings(row, settings)
    public_url = settings.public_url
    try:
        if kind == "email":
            channel = build_channel(row["name"], kind, config, secrets)
            assert isinstance(channel, EmailChannel)
            channel.deliver(report_email(
                report.content, report.csv, sender=channel.sender,
                recipients=channel.recipients, run_id=report.run_id, public_url=public_url,
                now=now))
        elif kind == "slack_webhook":
            _slack_webhook(secrets["webhook_url"], report_slack(report.content, public_url))
        elif kind == "slack_bot":
            _slack_bot(config, secrets["token"], report_slack(report.content, public_url))
        elif kind == "webhook":
            _webhook(config["url"], secrets.get("secret") or None, report)
        else:
            raise TransportError(f"a report cannot go to a {kind} channel: choose e-mail, "
                                 "Slack or webhook channels for the schedule", permanent=True)
    except KeyError as missing:
        raise TransportError(f"channel {row['name']!r} needs a value for {missing.args[0]}",
                             permanent=True) from None
    except ChannelUnusable as failure:
        raise TransportError(str(failure), permanent=True) from None
