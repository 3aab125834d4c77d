"""The state machine: a pure function from (persisted state, new result) to the next state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.result import ProbeResult


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


MAINTENANCE_REASON = "maintenance window"


def _target_state(
    state: str, result: ProbeResult, failures: int, successes: int, limits: Thresholds
) -> str:
    """The state after counting `result`; `state` is the one judged from (pending after a
    maintenance window), `failures`/`successes` the counts including this result."""
    if state == "pending":
        # A monitor's first verdict needs no confirmation: there is nothing to flap from.
        if result.is_success or failures >= limits.failures_before_down:
            return result.outcome
        return "pending"
    if result.is_success:
        if state != "down" or successes >= limits.successes_before_up:
            return result.outcome
        return "down"
    if failures >= limits.failures_before_down:
        return "down"
    return state


def decide(
    current: StateSnapshot,
    result: ProbeResult,
    limits: Thresholds = DEFAULT_THRESHOLDS,
    in_maintenance: bool = False,
) -> tuple[StateSnapshot, Transition | None]:
    """Fold one result into the state; a change of state comes back as a Transition.

    Inside a maintenance window the state is "maintenance" whatever the result, and counting
    starts afresh: the first verdict after the window is confirmed like a new monitor's.
    (This runs once per check result, so it builds its answer directly.)
    """
    at = result.checked_at
    if in_maintenance:
        if current.state == "maintenance":
            return StateSnapshot("maintenance", current.since, MAINTENANCE_REASON, 0, 0), None
        return (StateSnapshot("maintenance", at, MAINTENANCE_REASON, 0, 0),
                Transition(current.state, "maintenance", at, MAINTENANCE_REASON))
    success = result.is_success
    failures = 0 if success else current.consecutive_failures + 1
    successes = current.consecutive_successes + 1 if success else 0
    judged = "pending" if current.state == "maintenance" else current.state
    new_state = _target_state(judged, result, failures, successes, limits)
    # A failure explains itself; a success not yet trusted leaves the outage's reason standing.
    reason = result.reason if not success else (
        current.reason if new_state == "down" else result.reason
    )
    if new_state == current.state:
        return StateSnapshot(new_state, current.since, reason, failures, successes), None
    return (StateSnapshot(new_state, at, reason, failures, successes),
            Transition(current.state, new_state, at, reason))
