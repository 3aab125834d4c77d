"""The state machine: a pure function from (persisted state, new result) to the next state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from checks.result import ProbeResult


@dataclass(frozen=True, slots=True)
class Thresholds:
    failures_before_down: int = 1
    successes_before_up: int = 1


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    state: str
    since: datetime
    reason: str | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: str
    to_state: str
    at: datetime
    reason: str | None


def _target_state(current: StateSnapshot, result: ProbeResult, limits: Thresholds) -> str:
    if current.state == "pending":
        # A monitor's first verdict needs no confirmation: there is nothing to flap from.
        if result.is_success or current.consecutive_failures >= limits.failures_before_down:
            return result.outcome
        return "pending"
    if result.is_success:
        if current.state != "down" or current.consecutive_successes >= limits.successes_before_up:
            return result.outcome
        return "down"
    if current.consecutive_failures >= limits.failures_before_down:
        return "down"
    return current.state


def decide(
    current: StateSnapshot,
    result: ProbeResult,
    limits: Thresholds = DEFAULT_THRESHOLDS,
    in_maintenance: bool = False,
) -> tuple[StateSnapshot, Transition | None]:
    """Fold one result into the state; a change of state comes back as a Transition.

    Inside a maintenance window the state is "maintenance" whatever the result, and counting
    starts afresh: the first verdict after the window is confirmed like a new monitor's.
    """
    if in_maintenance:
        snapshot = StateSnapshot("maintenance", current.since, "maintenance window", 0, 0)
        if current.state == "maintenance":
            return snapshot, None
        moved = replace(snapshot, since=result.checked_at)
        return moved, Transition(current.state, "maintenance", result.checked_at, moved.reason)
    judged = replace(current, state="pending") if current.state == "maintenance" else current
    counted = replace(
        judged,
        consecutive_failures=0 if result.is_success else judged.consecutive_failures + 1,
        consecutive_successes=judged.consecutive_successes + 1 if result.is_success else 0,
    )
    new_state = _target_state(counted, result, limits)
    # A failure explains itself; a success not yet trusted leaves the outage's reason standing.
    reason = result.reason if not result.is_success else (
        current.reason if new_state == "down" else result.reason
    )
    if new_state == current.state:
        return replace(counted, state=current.state, reason=reason), None
    transition = Transition(current.state, new_state, result.checked_at, reason)
    return replace(counted, state=new_state, since=result.checked_at, reason=reason), transition
