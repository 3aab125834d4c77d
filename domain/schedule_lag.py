"""When the probe engine owes a monitor its next check: the rule behind "the engine is late".

A scheduled monitor is due again one interval after its last check, plus its timeout (a check
may take that long). Paused and push monitors are not scheduled by the engine; a monitor never
checked has no due time yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def next_check_due(
    last_check_at: datetime | None, interval_s: float, timeout_s: float, *, paused: bool,
    kind: str,
) -> datetime | None:
    """By when the monitor's next result should be recorded; None when the engine owes none."""
    if paused or kind == "push" or last_check_at is None:
        return None
    return last_check_at + timedelta(seconds=interval_s + timeout_s)


def seconds_late(due: datetime | None, now: datetime) -> float:
    """How far `now` is past `due`; 0 when not past it or nothing is due."""
    return 0.0 if due is None else max(0.0, (now - due).total_seconds())
