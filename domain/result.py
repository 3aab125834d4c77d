"""What a probe reports: the outcome of one check, before any state decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Outcome = Literal["up", "degraded", "down"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One check's outcome.

    `reason` is a short sentence a human can act on ("connection refused", "HTTP 503",
    "timed out after 5 s"); it is None when the check was simply up.
    `phases` holds timing phases in milliseconds (dns, connect, tls, ttfb, transfer, total)
    where the probe could measure them.
    """

    outcome: Outcome
    checked_at: datetime = field(default_factory=utcnow)
    latency_ms: float | None = None
    http_status: int | None = None
    reason: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    tls: dict[str, object] | None = None

    @property
    def is_success(self) -> bool:
        return self.outcome != "down"
