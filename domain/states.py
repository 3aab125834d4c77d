"""The states a monitor can be in, which one it shows, and what the whole page says.

A monitor's stored state is what the last results decided (domain.decide): pending until its
first verdict, then up, degraded, down, or maintenance inside a window. "paused" is never
stored: it is the operator's switch, and it outranks whatever was decided before the pause.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypeVar, get_args

from domain.tables import one_per

State = Literal["up", "degraded", "down", "pending", "maintenance", "paused"]
STATES: tuple[State, ...] = get_args(State)
NEW_STATE: State = "pending"  # before a monitor's first verdict
PAUSED: State = "paused"

# A monitor answering its users, if slowly: Prometheus's `upwatch_monitor_up` is 1 for these.
SERVING_STATES: frozenset[State] = frozenset({"up", "degraded"})
# No verdict the page can stand on: a monitor not checked yet (pending) or not being checked.
UNJUDGED_STATES: frozenset[State] = frozenset({"pending", "paused"})

OverallState = Literal["operational", "degraded", "partial_outage", "major_outage", "maintenance"]
OVERALL_STATES: tuple[OverallState, ...] = get_args(OverallState)

Value = TypeVar("Value")


def effective_state(paused: bool, stored: str | None) -> str:
    """The state a monitor shows: paused when paused, else its stored state (pending before
    anything was stored)."""
    if paused:
        return PAUSED
    return stored or NEW_STATE


def is_serving(state: str) -> bool:
    return state in SERVING_STATES


def overall_state(states: Iterable[str]) -> OverallState:
    """The whole page's state from its monitors' states. Monitors without a verdict do not
    count; all of the rest down is a major outage, some of them a partial one."""
    judged = [state for state in states if state not in UNJUDGED_STATES]
    if not judged:
        return "operational"
    down = judged.count("down")
    if down == len(judged):
        return "major_outage"
    if down:
        return "partial_outage"
    if "degraded" in judged:
        return "degraded"
    if "maintenance" in judged:
        return "maintenance"
    return "operational"


def for_every_state(values: Mapping[State, Value]) -> dict[str, Value]:
    """`values` (a label, a colour) checked to hold one entry per state, in STATES order: a
    table that forgets a new state fails on import, not in front of a visitor."""
    return one_per(STATES, values, "state")


def for_every_overall_state(values: Mapping[OverallState, Value]) -> dict[str, Value]:
    """As for_every_state, for the whole page's states."""
    return one_per(OVERALL_STATES, values, "overall state")

