"""The state machine, stepped one result at a time."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.decide import DEFAULT_THRESHOLDS, StateSnapshot, Thresholds, decide
from domain.result import ProbeResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(outcomes: str, limits: Thresholds = DEFAULT_THRESHOLDS) -> list[tuple[str, bool]]:
    """Feed outcomes ('u' up, 'd' down, 'g' degraded); return (state, changed) per step."""
    state = StateSnapshot(state="pending", since=T0)
    steps = []
    for i, letter in enumerate(outcomes):
        outcome = {"u": "up", "d": "down", "g": "degraded"}[letter]
        result = ProbeResult(
            outcome=outcome,  # type: ignore[arg-type]
            checked_at=T0 + timedelta(minutes=i),
            reason=None if outcome == "up" else f"failure {i}",
        )
        state, change = decide(state, result, limits)
        steps.append((state.state, change is not None))
    return steps


@pytest.mark.parametrize(
    ("outcomes", "limits", "expected"),
    [
        ("u", Thresholds(), [("up", True)]),
        ("d", Thresholds(), [("down", True)]),
        ("uud", Thresholds(), [("up", True), ("up", False), ("down", True)]),
        ("udd", Thresholds(2), [("up", True), ("up", False), ("down", True)]),
        ("dd", Thresholds(2), [("pending", False), ("down", True)]),
        ("dudu", Thresholds(2), [("pending", False), ("up", True), ("up", False), ("up", False)]),
        ("duu", Thresholds(1, 2), [("down", True), ("down", False), ("up", True)]),
        ("ugu", Thresholds(), [("up", True), ("degraded", True), ("up", True)]),
    ],
)
def test_it_follows_thresholds(outcomes: str, limits: Thresholds, expected: list) -> None:
    assert run(outcomes, limits) == expected


def test_it_keeps_the_outage_reason_until_recovery_is_confirmed() -> None:
    state = StateSnapshot(state="up", since=T0)
    state, _ = decide(state, ProbeResult("down", T0, reason="HTTP 503"), Thresholds(1, 2))
    state, change = decide(state, ProbeResult("up", T0 + timedelta(minutes=1)), Thresholds(1, 2))
    assert (state.state, state.reason, change) == ("down", "HTTP 503", None)
    state, change = decide(state, ProbeResult("up", T0 + timedelta(minutes=2)), Thresholds(1, 2))
    assert state.state == "up" and state.reason is None
    assert change is not None and (change.from_state, change.to_state) == ("down", "up")


def test_the_change_carries_the_time_and_reason_of_the_result() -> None:
    at = T0 + timedelta(minutes=5)
    failure = ProbeResult("down", at, reason="timed out after 5 s")
    _, change = decide(StateSnapshot("up", T0), failure)
    assert change is not None
    assert (change.at, change.reason) == (at, "timed out after 5 s")


CONFIRM_TWICE = Thresholds(2)


def run_with_maintenance(steps: str, limits: Thresholds = CONFIRM_TWICE) -> list[tuple[str, bool]]:
    """'u'/'d' outside a window, 'U'/'D' inside one; (state, changed) per step."""
    state = StateSnapshot(state="pending", since=T0)
    seen = []
    for i, letter in enumerate(steps):
        result = ProbeResult("up" if letter in "uU" else "down", T0 + timedelta(minutes=i),
                             reason=None if letter in "uU" else "HTTP 503")
        state, change = decide(state, result, limits, in_maintenance=letter.isupper())
        seen.append((state.state, change is not None))
    return seen


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # a failure inside the window pages nobody: the state is maintenance
        ("uDDu", [("up", True), ("maintenance", True), ("maintenance", False), ("up", True)]),
        # after the window, a failure is confirmed like a new monitor's (2 failures)
        ("uDdd", [("up", True), ("maintenance", True), ("pending", True), ("down", True)]),
        # a window beginning during an outage ends it
        ("ddD", [("pending", False), ("down", True), ("maintenance", True)]),
    ],
)
def test_maintenance_steps(steps: str, expected: list[tuple[str, bool]]) -> None:
    assert run_with_maintenance(steps) == expected
