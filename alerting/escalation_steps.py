"""Escalation steps: who else is paged while an outage stays unacknowledged (pure: no I/O).

The first page goes to the monitor's routed channels. Each step of the monitor's severity is
planned with it, due `after_minutes` after the outage began, and dropped when it falls due if
someone acknowledged (or it recovered) by then: like a channel's own escalation delay, a step
is a delivery that waits on its incident. Planned with the event, in its transaction, each step
is in the outbox once: a crash between steps neither skips nor repeats one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alerting.escalation import page_at
from alerting.planning import ChannelRule, PlannedDelivery, listening_targets

# The notices that page someone at the start of an outage (a reminder is planned later).
ESCALATING_KINDS = ("down", "flapping")


@dataclass(frozen=True, slots=True)
class Step:
    """A step with its channels' rules (whether they hear this event, their quiet hours)."""

    after_minutes: int
    channels: Sequence[ChannelRule]


def step_deliveries(
    kind: str, event: str, severity: str | None, began: datetime, steps: Sequence[Step],
    now: datetime,
) -> list[PlannedDelivery]:
    """One delivery per step and channel, due `after_minutes` after `began` (at once when that
    is past); numbered from 1 in `sequence`, so a channel of the first page that a step names
    again is paged again there. A channel in quiet hours for this severity, or not taking this
    event, is left out of a step as it is of the first page."""
    if kind not in ESCALATING_KINDS:
        return []
    return [
        PlannedDelivery(channel.id, kind, max(page_at(began, step.after_minutes), now),
                        needs_open_incident=True, sequence=number)
        for number, step in enumerate(steps, start=1)
        for channel in listening_targets(step.channels, event, severity, began)
    ]
