"""The state machine's whole answer: every field of the snapshot and of the change, step by step.

tests/test_decide.py pins which state comes next; these pin what is kept with it (since when,
why, the consecutive counts) and the change handed to alerting, through maintenance windows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.decide import MAINTENANCE_REASON, StateSnapshot, Thresholds, decide
from domain.result import ProbeResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MW = MAINTENANCE_REASON
OUTCOMES = {"u": "up", "g": "degraded", "d": "down"}


def result_at(minute: int, letter: str) -> ProbeResult:
    outcome = OUTCOMES[letter.lower()]
    reason = {"up": None, "degraded": f"slow {minute}", "down": f"HTTP 503 {minute}"}[outcome]
    return ProbeResult(outcome, T0 + timedelta(minutes=minute), reason=reason)  # type: ignore[arg-type]


def trace(steps: str, limits: Thresholds) -> list[tuple[object, ...]]:
    """Lower case outside a maintenance window, upper case inside one; per step:
    (state, since minute, reason, failures, successes, change or None)."""
    state = StateSnapshot("pending", T0)
    seen: list[tuple[object, ...]] = []
    for minute, letter in enumerate(steps):
        state, change = decide(state, result_at(minute, letter), limits, letter.isupper())
        since = (state.since - T0) // timedelta(minutes=1)
        changed = None if change is None else (
            change.from_state, change.to_state, (change.at - T0) // timedelta(minutes=1),
            change.reason)
        seen.append((state.state, since, state.reason, state.consecutive_failures,
                     state.consecutive_successes, changed))
    return seen


@pytest.mark.parametrize(
    ("steps", "limits", "expected"),
    [
        # maintenance followed by failures: counting starts afresh, confirmed like a new monitor
        ("uDDdd", Thresholds(2), [
            ("up", 0, None, 0, 1, ("pending", "up", 0, None)),
            ("maintenance", 1, MW, 0, 0, ("up", "maintenance", 1, MW)),
            ("maintenance", 1, MW, 0, 0, None),
            ("pending", 3, "HTTP 503 3", 1, 0, ("maintenance", "pending", 3, "HTTP 503 3")),
            ("down", 4, "HTTP 503 4", 2, 0, ("pending", "down", 4, "HTTP 503 4")),
        ]),
        # failures counted before a window do not carry over it
        ("dUd", Thresholds(2), [
            ("pending", 0, "HTTP 503 0", 1, 0, None),
            ("maintenance", 1, MW, 0, 0, ("pending", "maintenance", 1, MW)),
            ("pending", 2, "HTTP 503 2", 1, 0, ("maintenance", "pending", 2, "HTTP 503 2")),
        ]),
        # successes inside a window are not counted towards a recovery either
        ("dUUu", Thresholds(1, 2), [
            ("down", 0, "HTTP 503 0", 1, 0, ("pending", "down", 0, "HTTP 503 0")),
            ("maintenance", 1, MW, 0, 0, ("down", "maintenance", 1, MW)),
            ("maintenance", 1, MW, 0, 0, None),
            ("up", 3, None, 0, 1, ("maintenance", "up", 3, None)),
        ]),
        # an unconfirmed recovery keeps the outage's reason and start; the confirmed one moves on
        ("uddugu", Thresholds(2, 3), [
            ("up", 0, None, 0, 1, ("pending", "up", 0, None)),
            ("up", 0, "HTTP 503 1", 1, 0, None),
            ("down", 2, "HTTP 503 2", 2, 0, ("up", "down", 2, "HTTP 503 2")),
            ("down", 2, "HTTP 503 2", 0, 1, None),
            ("down", 2, "HTTP 503 2", 0, 2, None),
            ("up", 5, None, 0, 3, ("down", "up", 5, None)),
        ]),
        # degraded is a success: it counts towards recovery and reports its own reason
        ("dgG", Thresholds(1, 1), [
            ("down", 0, "HTTP 503 0", 1, 0, ("pending", "down", 0, "HTTP 503 0")),
            ("degraded", 1, "slow 1", 0, 1, ("down", "degraded", 1, "slow 1")),
            ("maintenance", 2, MW, 0, 0, ("degraded", "maintenance", 2, MW)),
        ]),
    ],
)
def test_every_field_of_every_step(steps: str, limits: Thresholds, expected: list) -> None:
    assert trace(steps, limits) == expected


STEPS = st.lists(st.sampled_from("ugdUGD"), min_size=1, max_size=25).map("".join)
LIMITS = st.builds(Thresholds, st.integers(1, 4), st.integers(1, 4))


@given(STEPS, LIMITS)
def test_a_change_is_reported_exactly_when_the_state_changes(
    steps: str, limits: Thresholds
) -> None:
    state = StateSnapshot("pending", T0)
    for minute, letter in enumerate(steps):
        result = result_at(minute, letter)
        before = state
        state, change = decide(before, result, limits, letter.isupper())
        if letter.isupper():
            assert (state.state, state.reason) == ("maintenance", MW)
            assert (state.consecutive_failures, state.consecutive_successes) == (0, 0)
        elif result.is_success:
            assert state.consecutive_failures == 0
            assert state.consecutive_successes == before.consecutive_successes + 1
        else:
            assert state.consecutive_successes == 0
            assert state.consecutive_failures == before.consecutive_failures + 1
            assert state.reason == result.reason
        if state.state == before.state:
            assert change is None and state.since == before.since
        else:
            assert change is not None
            assert (change.from_state, change.to_state) == (before.state, state.state)
            assert change.at == state.since == result.checked_at
            assert change.reason == state.reason
