"""Escalation and reminders over time (pure: no I/O).

A channel with `escalate_after_minutes` N is paged only if the incident is still open and nobody
acknowledged it N minutes after it began. Reminders repeat every R minutes while the incident is
open and unacknowledged; the n-th reminder is due at start + n x R.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def page_at(incident_started: datetime, escalate_after_minutes: int) -> datetime:
    return incident_started + timedelta(minutes=max(escalate_after_minutes, 0))


def reminder_due(started: datetime, every_minutes: int, now: datetime) -> int:
    """The sequence number of the latest reminder due at `now` (0: none yet, or reminders off)."""
    if every_minutes <= 0 or now <= started:
        return 0
    return int((now - started) / timedelta(minutes=every_minutes))


def still_pages(resolved: bool, acknowledged: bool) -> bool:
    """An escalation step or reminder fires only for an open, unacknowledged incident."""
    return not resolved and not acknowledged
