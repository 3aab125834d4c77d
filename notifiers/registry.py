"""Channels: the defaults from the environment and the ones configured in the dashboard.

Environment channels are mirrored as `alert_channel` rows (source "env") so routes, deliveries and
the dashboard treat every channel alike; their secrets stay in the settings and never reach the DB.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from domain.notice_templates import template_settings
from notifiers.base import Channel
from notifiers.email import EmailChannel
from notifiers.pagerduty import EVENTS_API, PagerDutyChannel
from notifiers.slack import SlackBotChannel, SlackWebhookChannel
from notifiers.sms import SmsChannel
from notifiers.webhook import WebhookChannel
from storage.alerting_admin import add_env_channels
from storage.handles import Connection

# For each kind: the plain settings and the secret ones (masked in the dashboard). Templates
# (domain/notice_templates.TEMPLATE_KEYS) are plain settings too, kept apart: an environment
# channel takes its connection from the environment but may have templates in its row.
# A Slack channel's signing_secret (its Slack app's) makes the Acknowledge button interactive
# (web/slack_actions checks each click's signature with it).
CHANNEL_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "slack_webhook": ((), ("webhook_url", "signing_secret")),
    "slack_bot": (("channel", "base_url"), ("token", "signing_secret")),
    "sms": (("account_sid", "sender", "recipients", "api_base"), ("auth_token",)),
    "email": (("host", "port", "sender", "recipients", "username", "security"), ("password",)),
    "webhook": (("url",), ("secret",)),
    "pagerduty": (("base_url",), ("routing_key",)),
}


def _template(cfg: dict, key: str = "text_template") -> str:
    return str(cfg.get(key) or "")


def _split(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(",") if part.strip()]


def _slack_webhook(name: str, cfg: dict, sec: dict) -> Channel:
    return SlackWebhookChannel(sec["webhook_url"], name=name, template=_template(cfg),
                               signing_secret=sec.get("signing_secret") or None)


def _slack_bot(name: str, cfg: dict, sec: dict) -> Channel:
    extra = {"base_url": cfg["base_url"]} if cfg.get("base_url") else {}
    return SlackBotChannel(sec["token"], cfg["channel"], name=name, template=_template(cfg),
                           signing_secret=sec.get("signing_secret") or None, **extra)


def _sms(name: str, cfg: dict, sec: dict) -> Channel:
    return SmsChannel(
        cfg["account_sid"], sec["auth_token"], cfg["sender"], _split(cfg["recipients"]),
        name=name, api_base=cfg.get("api_base") or None, template=_template(cfg),
    )


def _email(name: str, cfg: dict, sec: dict) -> Channel:
    return EmailChannel(
        cfg["host"], int(cfg.get("port") or 587), cfg["sender"], _split(cfg["recipients"]),
        username=cfg.get("username") or None, password=sec.get("password") or None,
        security=cfg.get("security") or "starttls", name=name,
        subject_template=_template(cfg, "subject_template"),
        body_template=_template(cfg, "body_template"),
    )


def _webhook(name: str, cfg: dict, sec: dict) -> Channel:
    return WebhookChannel(cfg["url"], secret=sec.get("secret") or None, name=name,
                          template=_template(cfg))


def _pagerduty(name: str, cfg: dict, sec: dict) -> Channel:
    base_url = cfg.get("base_url") or EVENTS_API
    return PagerDutyChannel(sec["routing_key"], name=name, base_url=base_url,
                            template=_template(cfg, "summary_template"))


BUILDERS: dict[str, Callable[[str, dict, dict], Channel]] = {
    "slack_webhook": _slack_webhook, "slack_bot": _slack_bot, "sms": _sms, "email": _email,
    "webhook": _webhook, "pagerduty": _pagerduty,
}


def env_channels(settings: Settings) -> dict[str, tuple[str, dict[str, Any], dict[str, str]]]:
    """name -> (kind, config, secrets) of the channels the environment defines."""
    found: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {}
    if settings.slack_webhook_url is not None:
        found["slack"] = (
            "slack_webhook", {}, {"webhook_url": settings.slack_webhook_url.get_secret_value()}
        )
    if (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
            and settings.twilio_to):
        found["sms"] = ("sms", {
            "account_sid": settings.twilio_account_sid, "sender": settings.twilio_from,
            "recipients": settings.twilio_to, "api_base": settings.twilio_api_base or "",
        }, {"auth_token": settings.twilio_auth_token.get_secret_value()})
    return found


def env_channel_kinds(settings: Settings) -> dict[str, str]:
    """name -> kind of the environment's channels: what their rows hold (never their secrets)."""
    return {name: kind for name, (kind, _config, _secrets) in env_channels(settings).items()}


def sync_env_channels(connection: Connection, settings: Settings) -> None:
    """Give every environment channel its row (created once; the dashboard may edit routing)."""
    add_env_channels(connection, env_channel_kinds(settings))


def channel_settings(row: dict, settings: Settings) -> tuple[str, dict, dict]:
    """A channel row's kind, config and secrets: an environment channel takes its connection
    from the settings and its templates from its row."""
    if row["source"] == "env":
        kind, config, secrets = env_channels(settings).get(row["name"], (row["kind"], {}, {}))
        return kind, {**config, **template_settings(row["config"] or {})}, secrets
    return row["kind"], row["config"] or {}, row["secrets"] or {}


class ChannelCache:
    """Built channel objects, rebuilt when a row's settings change (each builds a TLS context)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._built: dict[int, tuple[str, Channel]] = {}

    def channel_for(self, row: dict) -> Channel:
        kind, config, secrets = channel_settings(row, self._settings)
        fingerprint = json.dumps([kind, config, secrets], sort_keys=True)
        cached = self._built.get(row["id"])
        if cached is None or cached[0] != fingerprint:
            cached = (fingerprint, build_channel(row["name"], kind, config, secrets))
            self._built[row["id"]] = cached
        return cached[1]


class ChannelUnusable(Exception):
    """A channel row misses a setting it needs; the message names it."""


def build_channel(name: str, kind: str, config: dict, secrets: dict) -> Channel:
    if kind not in BUILDERS:
        raise ChannelUnusable(f"unknown channel kind {kind!r}")
    try:
        return BUILDERS[kind](name, config, secrets)
    except KeyError as missing:
        raise ChannelUnusable(f"channel {name!r} needs a value for {missing.args[0]}") from None
    except ValueError as error:
        raise ChannelUnusable(f"channel {name!r}: {error}") from None
