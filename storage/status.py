"""The public view of monitors: only what a visitor of the status page may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.monitors import list_monitors
from storage.results import uptime_since


@dataclass(frozen=True, slots=True)
class PublicComponent:
    """A public monitor without its URL, host or error text."""

    slug: str
    name: str
    state: str
    uptime_24h: float | None
    latency_ms: float | None
    last_check_at: datetime | None


def public_components(now: datetime | None = None) -> list[PublicComponent]:
    now = now or datetime.now(UTC)
    monitors = list_monitors(public_only=True)
    uptimes = uptime_since([m.id for m in monitors], now - timedelta(hours=24), now)
    return [
        PublicComponent(
            slug=m.slug,
            name=m.name,
            state="paused" if m.paused else m.state,
            uptime_24h=uptimes[m.id],
            latency_ms=m.latency_ms,
            last_check_at=m.last_check_at,
        )
        for m in monitors
    ]


def overall_state(components: list[PublicComponent]) -> str:
    states = [c.state for c in components if c.state not in ("pending", "paused")]
    if not states:
        return "operational"
    down = states.count("down")
    if down == len(states):
        return "major_outage"
    if down:
        return "partial_outage"
    if "degraded" in states:
        return "degraded"
    if all(s == "maintenance" for s in states):
        return "maintenance"
    return "operational"
