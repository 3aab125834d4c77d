"""What an event means and who hears it (pure: no I/O).

Storage reads the facts (the event, the monitor's channels, who was paged), asks these functions
what to do, and writes the answer as delivery rows. Each function takes plain data, so the rules
can be stepped one input at a time in tests without a database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerting.escalation import page_at
from alerting.flapping import FlapVerdict
from alerting.routing import QuietHours, Routed
from domain.severity import DEFAULT_SEVERITY

# Notices that page someone: only these carry an acknowledgement link, and the channels that
# received one are the ones that hear the incident's recovery and its reminders.
PAGING_KINDS = ("down", "flapping", "reminder")
# Channels told when someone acknowledges in Upwatch (the others learn nothing from it): the
# ones with incidents of their own to acknowledge.
ACKNOWLEDGING_CHANNEL_KINDS = ("pagerduty",)
# Events a flapping monitor stops announcing one by one.
FLAP_PRONE_EVENTS = ("down", "up", "degraded")


@dataclass(frozen=True, slots=True)
class Change:
    """A state_change row: one transition (kind "state"), certificate warning or settled flap."""

    id: int
    monitor_id: int
    kind: str  # state | certificate | settled | rule
    from_state: str
    to_state: str
    at: datetime
    incident_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChannelRule:
    """What decides whether a channel hears an event (its transport settings play no part)."""

    id: int
    events: tuple[str, ...]
    escalate_after_minutes: int = 0
    quiet: QuietHours = field(default_factory=lambda: QuietHours(None, None))


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One notice to one channel, due at `next_attempt_at`."""

    channel_id: int
    kind: str  # a notifiers.message.NoticeKind
    next_attempt_at: datetime
    needs_open_incident: bool = False  # escalations and reminders: dropped once settled
    sequence: int = 0  # reminders: 1, 2, 3...


def rule_routed(firing: bool) -> Routed:
    """An alert rule's event (a state_change of kind "rule") as people hear it: one that starts
    to hold pages the channels that take outages, its end goes to those that take recoveries.
    It opens no incident: the monitor's own state is unchanged."""
    return Routed("rule_firing", "down") if firing else Routed("rule_resolved", "up")


def maintenance_judged_at(
    change: Change, entered_maintenance_at: datetime | None
) -> datetime | None:
    """When to look for the window behind a maintenance notice (None: no window to ask).

    A start is judged by the windows active when it began; an end by those active when the
    monitor entered maintenance (at the end, its window is no longer active).
    """
    if change.to_state == "maintenance":
        return change.at
    return entered_maintenance_at


def checks_flapping(routed: Routed) -> bool:
    return routed.event in FLAP_PRONE_EVENTS


def notice_kind(routed: Routed, flap_verdict: FlapVerdict) -> str | None:
    """The notice to send once flapping was judged; None when a flapping monitor stays quiet."""
    if flap_verdict == "quiet":
        return None
    if flap_verdict == "flapping":
        return "flapping"
    return routed.notice_kind


def routed_channels(enabled: Sequence[ChannelRule], routes: Collection[int]) -> list[ChannelRule]:
    """A monitor's channels: its routes, or every enabled channel when it has none."""
    return [channel for channel in enabled if not routes or channel.id in routes]


def recovered_incident(kind: str, change: Change) -> int | None:
    """The incident a recovery ends, or None: its notice goes to whoever was paged for it.

    A recovery with an incident is not filtered by the channels' events or quiet hours: the
    people woken by the outage hear that it is over.
    """
    if kind == "up" and change.kind == "state":
        return change.incident_id
    return None


def recovery_targets(
    routed: Sequence[ChannelRule], paged: Sequence[ChannelRule]
) -> list[ChannelRule]:
    """The paged channels: routed ones first, then those paged but since removed from the routes."""
    paged_ids = {channel.id for channel in paged}
    targets = [channel for channel in routed if channel.id in paged_ids]
    chosen = {channel.id for channel in targets}
    return targets + [channel for channel in paged if channel.id not in chosen]


def listening_targets(
    routed: Sequence[ChannelRule], event: str, severity: str | None, at: datetime
) -> list[ChannelRule]:
    """The routed channels that want this event and are not in quiet hours for this severity."""
    severity = severity or DEFAULT_SEVERITY  # a monitor whose row is gone
    return [
        channel for channel in routed
        if event in channel.events and not channel.quiet.silences(severity, at)
    ]


def plan_deliveries(
    kind: str, targets: Sequence[ChannelRule], at: datetime, now: datetime
) -> list[PlannedDelivery]:
    """One delivery per target; an outage waits for a channel's escalation delay, if it has one."""
    planned = []
    for channel in targets:
        escalates = kind in ("down", "flapping") and channel.escalate_after_minutes > 0
        due = page_at(at, channel.escalate_after_minutes) if escalates else now
        planned.append(PlannedDelivery(channel.id, kind, max(due, now), escalates))
    return planned


def deliveries_for(
    routed: Routed, kind: str, change: Change, severity: str | None,
    channels: Sequence[ChannelRule], paged: Sequence[ChannelRule], now: datetime,
) -> list[PlannedDelivery]:
    """Who hears the notice `kind` about `change`, and when.

    `channels` are the monitor's routed channels; `paged` the channels paged for the incident
    the change ends (needed only when `recovered_incident` names one).
    """
    if recovered_incident(kind, change) is not None:
        targets = recovery_targets(channels, paged)
    else:
        targets = listening_targets(channels, routed.event, severity, change.at)
    return plan_deliveries(kind, targets, change.at, now)


def reminder_deliveries(
    sequence: int, paged: Sequence[int], now: datetime
) -> list[PlannedDelivery]:
    """Reminder no. `sequence` (0: none due) to each channel paged for the incident, due now."""
    if sequence <= 0:
        return []
    return [PlannedDelivery(channel_id, "reminder", now, True, sequence) for channel_id in paged]
