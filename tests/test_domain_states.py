"""The state a monitor shows, whether it serves, what the whole page says, and the tables keyed
by state: one row per case, each failing if the rule moves."""

from __future__ import annotations

import pytest

from domain.formatting import OVERALL_LABELS, STATE_LABELS, state_label
from domain.states import (
    OVERALL_STATES,
    STATES,
    effective_state,
    for_every_overall_state,
    for_every_state,
    is_serving,
    overall_state,
)


def test_the_states_are_these_six_in_this_order() -> None:
    # /metrics lists one series per state in this order; the REST API documents these names.
    assert STATES == ("up", "degraded", "down", "pending", "maintenance", "paused")


def test_the_overall_states_are_these_five() -> None:
    assert OVERALL_STATES == (
        "operational", "degraded", "partial_outage", "major_outage", "maintenance")


@pytest.mark.parametrize(("paused", "stored", "shown"), [
    (False, None, "pending"),  # no state row yet
    (False, "", "pending"),
    (False, "pending", "pending"),
    (False, "up", "up"),
    (False, "degraded", "degraded"),
    (False, "down", "down"),
    (False, "maintenance", "maintenance"),
    (True, None, "paused"),
    (True, "up", "paused"),
    (True, "down", "paused"),  # the pause outranks the outage decided before it
    (True, "maintenance", "paused"),
])
def test_effective_state(paused: bool, stored: str | None, shown: str) -> None:
    assert effective_state(paused, stored) == shown


@pytest.mark.parametrize(("state", "serving"), [
    ("up", True),
    ("degraded", True),
    ("down", False),
    ("pending", False),
    ("maintenance", False),
    ("paused", False),
])
def test_is_serving(state: str, serving: bool) -> None:
    assert is_serving(state) is serving


@pytest.mark.parametrize(("states", "overall"), [
    ([], "operational"),
    (["pending", "paused"], "operational"),  # nothing judged yet
    (["up"], "operational"),
    (["up", "pending"], "operational"),
    (["down"], "major_outage"),
    (["down", "down", "paused"], "major_outage"),
    (["down", "pending"], "major_outage"),
    (["down", "up"], "partial_outage"),
    (["down", "degraded"], "partial_outage"),
    (["down", "maintenance"], "partial_outage"),
    (["degraded", "up"], "degraded"),
    (["degraded", "maintenance"], "degraded"),
    (["maintenance", "up"], "maintenance"),
    (["maintenance"], "maintenance"),
])
def test_overall_state(states: list[str], overall: str) -> None:
    assert overall_state(states) == overall
    assert overall_state(iter(states)) == overall  # any iterable, read once


@pytest.mark.parametrize("state", STATES)
def test_every_state_has_its_own_label(state: str) -> None:
    assert state in STATE_LABELS
    label = state_label(state)
    assert label.endswith(f" {state}") and label != state


def test_an_unknown_state_reads_as_it_is() -> None:
    assert state_label("exploded") == "exploded"


@pytest.mark.parametrize("overall", OVERALL_STATES)
def test_every_overall_state_has_a_sentence(overall: str) -> None:
    assert OVERALL_LABELS[overall][0].isupper()


@pytest.mark.parametrize(("table", "complain_of"), [
    ({state: 1 for state in STATES if state != "paused"}, "missing ['paused']"),
    ({**{state: 1 for state in STATES}, "late": 1}, "unknown ['late']"),
])
def test_a_table_per_state_must_name_every_state_once(
    table: dict[str, int], complain_of: str
) -> None:
    with pytest.raises(ValueError, match=complain_of.replace("[", r"\[")):
        for_every_state(table)  # type: ignore[arg-type]


def test_a_table_per_state_comes_back_in_state_order() -> None:
    assert list(for_every_state({state: 0 for state in reversed(STATES)})) == list(STATES)


def test_a_table_per_overall_state_must_name_every_one() -> None:
    with pytest.raises(ValueError, match="major_outage"):
        for_every_overall_state({s: 0 for s in OVERALL_STATES if s != "major_outage"})
