"""Which notice an event becomes, and which channels hear it (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from domain.limits import parse_time_zone
from domain.severity import DEFAULT_SEVERITY, SEVERITY_RANK


@dataclass(frozen=True, slots=True)
class Routed:
    """An event as people hear about it: the notice kind and the channel event filter it uses."""

    notice_kind: str  # a notifiers.message.NoticeKind
    event: str  # down | up | degraded | certificate | maintenance


def route_event(kind: str, from_state: str, to_state: str) -> Routed | None:
    """The notice for a state_change row, or None when nobody needs to hear about it."""
    if kind == "certificate":
        return Routed("certificate", "certificate")
    if to_state == "down":
        return Routed("down", "down")
    if to_state == "degraded":
        return Routed("degraded", "degraded")
    if to_state == "maintenance":
        return Routed("maintenance_start", "maintenance")
    if from_state == "maintenance" and to_state in ("up", "pending"):
        return Routed("maintenance_end", "maintenance")
    if to_state == "up" and (from_state in ("down", "degraded") or kind == "settled"):
        return Routed("up", "up")
    return None  # pending -> up: a new monitor's first verdict is not news


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: str | None  # "HH:MM"
    end: str | None
    timezone: str = "UTC"
    min_severity: str = "critical"

    def silences(self, severity: str, at: datetime) -> bool:
        """True when a monitor of `severity` must not fire this channel at `at`."""
        if not self.start or not self.end:
            return False
        rank = SEVERITY_RANK.get(severity, SEVERITY_RANK[DEFAULT_SEVERITY])
        if rank >= SEVERITY_RANK.get(self.min_severity, SEVERITY_RANK["critical"]):
            return False
        try:
            zone = parse_time_zone(self.timezone)
        except ValueError:
            zone = ZoneInfo("UTC")
        local = at.astimezone(zone).time()
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # spans midnight, e.g. 22:00-07:00


def parse_clock(text: str) -> str | None:
    """'HH:MM' normalised, or None when `text` is not a time of day."""
    try:
        return time.fromisoformat(text.strip()).strftime("%H:%M")
    except ValueError:
        return None
