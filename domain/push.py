"""Push (heartbeat) monitors: the monitored job calls us; silence past period + grace is down.

A beat is recorded as a result like any check. The engine looks at each push monitor regularly
and, when the last beat is older than the period plus the grace, records a down result whose
reason starts with MISSED_BEAT_PREFIX, which is how those results are told apart from beats.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from domain.result import ProbeResult
from domain.text import single_line

MISSED_BEAT_PREFIX = "no heartbeat"
MAX_MESSAGE_CHARS = 200
DEFAULT_GRACE_S = 60


class PushOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grace_seconds: int = DEFAULT_GRACE_S

    @field_validator("grace_seconds")
    @classmethod
    def _grace_in_range(cls, grace: int) -> int:
        if not 0 <= grace <= 86_400:
            raise ValueError("enter a grace period between 0 s and 86400 s")
        return grace


def new_push_token() -> str:
    return secrets.token_urlsafe(24)


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def missed_beat(
    last_beat: datetime | None, watching_since: datetime, period_s: int, grace_s: int,
    now: datetime,
) -> ProbeResult | None:
    """A down result when the heartbeat is overdue, else None."""
    reference = last_beat or watching_since
    silent_s = (now - reference).total_seconds()
    if silent_s <= period_s + grace_s:
        return None
    expected = f"expected every {_span(period_s)}"
    if last_beat is None:
        reason = f"{MISSED_BEAT_PREFIX} yet after {_span(silent_s)} ({expected})"
    else:
        reason = f"{MISSED_BEAT_PREFIX} for {_span(silent_s)} ({expected})"
    return ProbeResult("down", checked_at=now, reason=reason)


def beat_result(status: str | None, message: str | None, now: datetime) -> ProbeResult:
    """What a heartbeat says: up, or down with the sender's message as the reason."""
    # The sender's text becomes a reason that pages, feeds and PostgreSQL (no NUL in text) see.
    text = single_line(message or "")[:MAX_MESSAGE_CHARS] or None
    if status == "down":
        return ProbeResult("down", checked_at=now, reason=f"reported down: {text}" if text
                           else "reported down")
    return ProbeResult("up", checked_at=now, reason=None)
