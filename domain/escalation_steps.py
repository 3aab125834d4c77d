"""Escalation steps per severity and the hourly digest, as an operator sets them (pure).

A severity's steps say who is paged when an outage stays unacknowledged: "after 5 minutes,
the on-call phone; after 15, the team lead". The first page (step 0) is the monitor's routing;
each step adds channels, by name. A severity in the digest pages nobody: its changes are listed
in one message per channel and hour instead, so it cannot have steps too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.severity import SEVERITIES, SEVERITY_CHOICES

MAX_STEPS = 5  # per severity
MAX_STEP_CHANNELS = 10
MAX_STEP_MINUTES = 1440  # a day
STEP_HINT = "a whole number of minutes from 0 to 1440 (a day)"


@dataclass(frozen=True, slots=True)
class EscalationStep:
    after_minutes: int  # since the incident began
    channels: tuple[str, ...]  # channel names

    def to_api(self) -> dict[str, Any]:
        return {"after_minutes": self.after_minutes, "channels": list(self.channels)}


StepsBySeverity = Mapping[str, tuple[EscalationStep, ...]]


def no_steps() -> dict[str, tuple[EscalationStep, ...]]:
    return {severity: () for severity in SEVERITIES}


def steps_to_api(steps: StepsBySeverity) -> dict[str, list[dict[str, Any]]]:
    """Every severity, most urgent first, each with its steps (maybe none)."""
    return {severity: [step.to_api() for step in steps.get(severity, ())]
            for severity in SEVERITIES}


def parse_steps(value: object, current: StepsBySeverity,
                errors: dict[str, str]) -> dict[str, tuple[EscalationStep, ...]]:
    """`current` with the severities given in `value` replaced; problems go to `errors`,
    named like `steps.critical[1].after_minutes`."""
    merged = {**no_steps(), **current}
    if not isinstance(value, Mapping):
        errors["steps"] = ("send an object of severity -> list of steps, e.g. {\"critical\": "
                           "[{\"after_minutes\": 5, \"channels\": [\"on-call\"]}]}")
        return merged
    for severity, given in value.items():
        path = f"steps.{severity}"
        if severity not in SEVERITIES:
            errors[path] = f"unknown severity: use {SEVERITY_CHOICES}"
        elif not isinstance(given, list) or len(given) > MAX_STEPS:
            errors[path] = f"give a list of at most {MAX_STEPS} steps"
        else:
            merged[severity] = _steps(given, path, errors)
    return merged


def _steps(given: list[Any], path: str, errors: dict[str, str]) -> tuple[EscalationStep, ...]:
    steps: list[EscalationStep] = []
    for index, raw in enumerate(given):
        where = f"{path}[{index}]"
        if not isinstance(raw, Mapping):
            errors[where] = "give an object with after_minutes and channels"
            continue
        if unknown := sorted(set(raw) - {"after_minutes", "channels"}):
            errors[where] = f"unknown field {unknown[0]}: use after_minutes, channels"
            continue
        minutes, channels = _minutes(raw.get("after_minutes")), _names(raw.get("channels"))
        if minutes is None:
            errors[f"{where}.after_minutes"] = f"use {STEP_HINT}"
        elif steps and minutes <= steps[-1].after_minutes:
            errors[f"{where}.after_minutes"] = "each step must come later than the one before"
        if channels is None:
            errors[f"{where}.channels"] = (
                f"give a list of 1 to {MAX_STEP_CHANNELS} channel names")
        if minutes is not None and channels is not None:
            steps.append(EscalationStep(minutes, channels))
    return tuple(steps)


def _minutes(value: object) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_STEP_MINUTES else None


def _names(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_STEP_CHANNELS:
        return None
    if not all(isinstance(name, str) and name.strip() and len(name) <= 64 for name in value):
        return None
    return tuple(dict.fromkeys(name.strip() for name in value))  # each once, in order


def parse_digest(value: object, errors: dict[str, str]) -> tuple[str, ...]:
    """The severities whose changes go to the hourly digest instead of paging."""
    if not isinstance(value, list) or not all(item in SEVERITIES for item in value):
        errors["digest"] = f"give a list of severities: {SEVERITY_CHOICES}"
        return ()
    return tuple(severity for severity in SEVERITIES if severity in value)


def digest_conflicts(steps: StepsBySeverity, digest: tuple[str, ...]) -> dict[str, str]:
    """A severity in the digest pages nobody, so steps for it would never fire: say so."""
    return {f"steps.{severity}": f"{severity} goes to the digest, which pages nobody: take it "
                                 "out of the digest or remove its steps"
            for severity in digest if steps.get(severity)}


def goes_to_digest(severity: str | None, digest: tuple[str, ...]) -> bool:
    return severity in digest


def steps_of(steps: StepsBySeverity, severity: str | None, default: str) -> tuple[
        EscalationStep, ...]:
    """The steps of a monitor of `severity` (a missing or unknown one is `default`)."""
    known = severity if severity in SEVERITIES else default
    return tuple(steps.get(known, ()))
