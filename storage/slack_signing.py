"""The Slack signing secrets stored on Slack channels: what /slack/actions checks a button
click's signature with (web/slack_actions). Read only there, never shown."""

from __future__ import annotations

from sqlalchemy import select

from storage.alerting_models import AlertChannel
from storage.db import get_engine
from storage.tables import table_of

CHANNELS = table_of(AlertChannel)
SLACK_KINDS = ("slack_webhook", "slack_bot")
SIGNING_SECRET = "signing_secret"  # the channel's secret field (notifiers/registry)


def slack_signing_secrets() -> list[str]:
    """Each distinct signing secret of the Slack channels set up in the dashboard (one per Slack
    app; the environment's webhook channel has none). A disabled channel's counts too: its
    messages' buttons were sent while it was on."""
    with get_engine().connect() as connection:
        rows = connection.execute(select(CHANNELS.c.secrets).where(
            CHANNELS.c.kind.in_(SLACK_KINDS), CHANNELS.c.source == "db")).scalars()
        found = [str((secrets or {}).get(SIGNING_SECRET) or "").strip() for secrets in rows]
    return list(dict.fromkeys(secret for secret in found if secret))
