"""The contract between the dispatcher and every notification channel.

A channel sends one `Notice` and either returns (delivered) or raises `TransportError`. It
returns a note when its own template could not be used and the default text went out instead:
the dispatcher records the note with the attempt (the page itself was delivered). The
dispatcher decides from `permanent` whether to retry (with backoff, at the earliest after
`retry_after` seconds) or to stop and mark the channel failing. Channels never retry by themselves:
a retry inside a channel is invisible to the delivery log and can send a message twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable

from notifiers.message import Notice

# Seconds: long enough for a slow provider, short enough that a stuck one does not hold a worker.
DEFAULT_TIMEOUT = 10.0


class TransportError(Exception):
    """A delivery that did not happen.

    `message` is the provider's own error, phrased so an operator can act on it; it is what the
    dashboard's "send test" button shows.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"TransportError({self.message!r}, permanent={self.permanent}, "
            f"retry_after={self.retry_after})"
        )


@runtime_checkable
class Channel(Protocol):
    """One configured destination (a Slack channel, a set of phone numbers, a mailbox...).

    `name` identifies the channel in delivery rows and the dashboard. `send` is blocking; the
    dispatcher runs it in a worker thread.
    """

    name: str

    def send(self, notice: Notice) -> str | None: ...


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value whatever the case of its name (SDKs hand back plain dicts)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def error_for_status(
    service: str, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> TransportError:
    """The usual HTTP reading: 429, 408 and 5xx pass (retry), any other 4xx will not."""
    retry_after = parse_retry_after(header(headers, "Retry-After"))
    text = f"{service} answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return TransportError(f"{text} (rate limited)", retry_after=retry_after)
    if status == 408 or status >= 500:
        return TransportError(text, retry_after=retry_after)
    if status in (401, 403):
        return TransportError(f"{text} (check the credentials)", permanent=True)
    if status == 404:
        return TransportError(f"{text} (check the URL or account)", permanent=True)
    if 300 <= status < 400:
        location = header(headers, "Location")
        hint = f" (redirected to {location}: configure that URL)" if location else ""
        return TransportError(text + hint, permanent=True)
    return TransportError(text, permanent=True)


def connection_error(service: str, error: BaseException) -> TransportError:
    """The request may not have reached the provider: always worth another try."""
    return TransportError(f"could not reach {service}: {error}")
