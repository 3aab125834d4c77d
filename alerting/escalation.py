"""Escalation and reminders over time (pure: no I/O).

A channel with `escalate_after_minutes` N is paged only if the incident is still open and nobody
acknowledged it N minutes after it began. Reminders repeat every R minutes while the incident is
open and unacknowledged; the n-th reminder is due at start + n x R (R: the monitor's own, else
the global setting, domain.escalation.effective_escalation). The steps per severity are planned
the same way (alerting/escalation_steps.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def page_at(incident_started: datetime, escalate_after_minutes: int) -> datetime:
    return incident_started + timedelta(minutes=max(escalate_after_minutes, 0))


def reminders_on(every_minutes: int) -> bool:
    return every_minutes > 0


def reminder_due(started: datetime, every_minutes: int, now: datetime) -> int:
    """The sequence number of the latest reminder due at `now` (0: none yet, or reminders off)."""
    if not reminders_on(every_minutes) or now <= started:
        return 0
    return int((now - started) / timedelta(minutes=every_minutes))


def still_pages(resolved: bool, acknowledged: bool) -> bool:
    """An escalation step or reminder fires only for an open, unacknowledged incident."""
    return not resolved and not acknowledged


def waits_on_incident(needs_open_incident: bool, incident_id: int | None) -> bool:
    """Whether a delivery is an escalation step or reminder whose incident decides if it fires."""
    return needs_open_incident and incident_id is not None


def why_skipped(found: bool, resolved: bool, acknowledged: bool) -> str | None:
    """None when the incident still pages; else the reason its escalation or reminder is dropped.

    An incident that is gone counts as resolved.
    """
    if found and still_pages(resolved, acknowledged):
        return None
    why = "resolved" if not found or resolved else "acknowledged"
    return f"incident {why} before this step"
