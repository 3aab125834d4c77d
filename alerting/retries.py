"""What one send attempt's outcome means for its delivery and its channel (pure: no I/O).

A transient error is retried with exponential backoff (or after the provider's Retry-After, if
longer) for up to an hour from the first attempt; a permanent error fails at once. A failure
marks the channel failing, so the dashboard shows the provider's error; a success clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

RETRY_FOR = timedelta(hours=1)
MAX_BACKOFF_S = 300


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th attempt: 0.5 s, 1 s, 2 s ... at most five minutes."""
    return timedelta(seconds=min(0.5 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Literal["delivered", "pending", "failed"]  # the delivery's new status
    logged_as: Literal["delivered", "retry", "permanent", "gave_up"]  # the attempt's outcome
    error: str | None  # what the delivery and the attempt record
    next_attempt_at: datetime | None  # set for a retry (and kept on giving up)
    channel: Literal["healthy", "failing", "unchanged"]


def outcome_of(
    error: str | None, *, permanent: bool, attempts: int, first_attempt_at: datetime | None,
    now: datetime, retry_after_s: float | None = None,
) -> Outcome:
    """The outcome of the `attempts`-th attempt, which ended at `now` with `error` (None: sent)."""
    if error is None:
        return Outcome("delivered", "delivered", None, None, "healthy")
    if permanent:
        return Outcome("failed", "permanent", error, None, "failing")
    wait = max(backoff(attempts), timedelta(seconds=retry_after_s or 0))
    first = first_attempt_at or now
    if now + wait - first > RETRY_FOR:
        return Outcome("failed", "gave_up", f"{error} (gave up after retrying for an hour)",
                       now + wait, "failing")
    return Outcome("pending", "retry", error, now + wait, "unchanged")
