"""The dashboard's "Send test" button: one test notice through a saved channel, right now.

It goes through the same channel classes as real pages (registry.build_channel, environment
channels included), so success means the path works and a failure is the provider's own error,
with every secret of the channel masked in it (a provider may echo the URL or key it was given).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from config.settings import Settings
from domain import links
from domain.monitor_input import SECRET_MASK
from notifiers.base import TransportError
from notifiers.message import Notice
from notifiers.registry import ChannelCache, ChannelUnusable, channel_settings
from storage.alerting_admin import channel_row, clear_failing


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    message: str
    note: str | None = None  # sent, but with the default text: why the template was not used


def sample_notice(channel_name: str, settings: Settings) -> Notice:
    return Notice(
        kind="test", monitor_name=channel_name, monitor_slug="test", state="up",
        reason="If you can read this, the channel works.", since=datetime.now(UTC),
        dashboard_url=links.home_url(settings.public_url),
        status_url=links.status_url(settings.public_url),
        # Unique per test: PagerDuty deduplicates on it, and each test should reach it.
        event_id=int(time.time() * 1000),
    )


def _masked(text: str, secrets: dict) -> str:
    # Longest first: a secret that contains another is masked whole.
    for value in sorted((str(v) for v in secrets.values() if v), key=len, reverse=True):
        text = text.replace(value, SECRET_MASK)
    return text


def send_test(channel_id: int, settings: Settings) -> SendOutcome:
    """Send a test notice; a success also clears the channel's failing mark."""
    row = channel_row(channel_id)
    if row is None:
        return SendOutcome(False, "This channel no longer exists.")
    secrets = channel_settings(row, settings)[2]
    try:
        channel = ChannelCache(settings).channel_for(row)
        note = channel.send(sample_notice(row["name"], settings))
    except (TransportError, ChannelUnusable) as error:
        return SendOutcome(False, _masked(getattr(error, "message", None) or str(error), secrets))
    clear_failing(channel_id)
    return SendOutcome(True, f"Test message sent through {row['name']!r}.",
                       None if note is None else _masked(note, secrets))

