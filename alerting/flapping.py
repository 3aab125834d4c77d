"""Flapping: a monitor changing state too often is announced once, then kept quiet (pure: no I/O).

More than `flap_changes` state transitions within `flap_window_minutes` (the new one included)
make a monitor flapping: one "flapping" notice says so, and its later transitions say nothing
until it has been calm for a whole window, when one "settled" event tells where it ended up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

FlapVerdict = Literal["normal", "flapping", "quiet"]


@dataclass(frozen=True, slots=True)
class FlapPolicy:
    changes: int = 5  # more than this many state transitions ...
    window_minutes: int = 10  # ... within this many minutes is flapping

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


def window_start(change_at: datetime, policy: FlapPolicy) -> datetime:
    """The earliest transition that counts towards the verdict on a change at `change_at`."""
    return change_at - policy.window


def flap_verdict(
    change_kind: str, recent_changes: int, already_flapping: bool, policy: FlapPolicy
) -> FlapVerdict:
    """'normal', 'flapping' (say so once) or 'quiet' (already said) for one event.

    `recent_changes` counts the monitor's state transitions in the window, this one included.
    Only transitions count: a certificate warning or a settled event is never flapping.
    """
    if change_kind != "state":
        return "normal"
    if already_flapping:
        return "quiet"
    if recent_changes > policy.changes:
        return "flapping"
    return "normal"


def has_settled(last_change_at: datetime | None, now: datetime, policy: FlapPolicy) -> bool:
    """A flapping monitor has settled once a whole window passed without a transition."""
    return last_change_at is None or now - last_change_at >= policy.window
