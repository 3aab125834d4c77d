"""The hourly digest: changes of the severities it takes are listed, not paged (pure: no I/O).

A change goes to the digest of each routed channel that takes its event (quiet hours do not
hold an entry back: the digest is not a page), in the UTC hour it happened. An hour's digest is
planned once the hour is over; a change recorded after its hour's digest was planned goes to
the next open hour, so nothing is dropped and nothing is listed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from alerting.planning import ChannelRule


def digest_hour(at: datetime) -> datetime:
    """The start of the UTC hour whose digest lists a change at `at`."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def is_over(hour: datetime, now: datetime) -> bool:
    """Whether the hour starting at `hour` is over at `now`, so its digest is due: every
    hour before the current one."""
    return hour < digest_hour(now)


def hour_number(hour: datetime) -> int:
    """Hours since the epoch: the digest's sequence number, unique per channel."""
    return int(digest_hour(hour).timestamp()) // 3600


def hour_from_number(number: int) -> datetime:
    return datetime.fromtimestamp(number * 3600, UTC)


def digest_targets(channels: Sequence[ChannelRule], event: str) -> list[ChannelRule]:
    """The routed channels whose digest lists a change of this event."""
    return [channel for channel in channels if event in channel.events]
