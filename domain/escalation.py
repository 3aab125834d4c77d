"""Reminders and flap detection as an operator sets them: what values make sense (pure).

Reminders repeat every N minutes while an incident is open and unacknowledged (0: off); more
than `flap_changes` state changes within `flap_window_minutes` make a monitor flapping. A monitor
may have its own value of each (`effective_escalation`). The steps per severity and the digest
are domain/escalation_steps.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from domain.escalation_steps import (
    EscalationStep,
    digest_conflicts,
    no_steps,
    parse_digest,
    parse_steps,
    steps_to_api,
)
from domain.limits import InvalidInput

# field -> (lowest, highest, what to write when it is out of range)
RANGES: dict[str, tuple[int, int, str]] = {
    "remind_every_minutes": (5, 1440, "0 (no reminders) or from 5 to 1440 minutes (a day)"),
    "flap_changes": (2, 100, "a whole number of changes from 2 to 100"),
    "flap_window_minutes": (1, 1440, "a whole number of minutes from 1 to 1440 (a day)"),
}


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    remind_every_minutes: int = 0
    flap_changes: int = 5
    flap_window_minutes: int = 10
    # severity -> its steps, in order; the channels by name
    steps: Mapping[str, tuple[EscalationStep, ...]] = field(default_factory=no_steps)
    digest: tuple[str, ...] = ()  # severities listed hourly instead of paging

    def to_api(self) -> dict[str, Any]:
        return {"remind_every_minutes": self.remind_every_minutes,
                "flap_changes": self.flap_changes, "flap_window_minutes": self.flap_window_minutes,
                "steps": steps_to_api(self.steps), "digest": list(self.digest)}


# Fields of the settings beyond RANGES: the steps per severity and the digest.
FIELDS = (*RANGES, "steps", "digest")


def parse_escalation(values: Mapping[str, Any], current: EscalationSettings) -> EscalationSettings:
    """`current` with the fields given in `values` changed, or InvalidInput naming each bad
    field (nothing changes then)."""
    if not isinstance(values, Mapping):
        raise InvalidInput({"settings": "send the settings as an object of fields"})
    errors = {name: f"unknown field: use {', '.join(FIELDS)}" for name in values
              if name not in FIELDS}
    merged: dict[str, Any] = {}
    for name in RANGES:
        if name not in values:
            continue
        try:
            merged[name] = checked_value(name, values[name])
        except ValueError as exc:
            errors[name] = str(exc)
    steps = parse_steps(values["steps"], current.steps, errors) if "steps" in values \
        else current.steps
    digest = parse_digest(values["digest"], errors) if "digest" in values else current.digest
    if not errors:
        errors.update(digest_conflicts(steps, digest))
    if errors:
        raise InvalidInput(errors)
    return replace(current, **merged, steps=steps, digest=digest)


def effective_escalation(defaults: EscalationSettings,
                         own: Mapping[str, Any]) -> EscalationSettings:
    """The settings one monitor works by: its own value of each of RANGES where it has one
    (`own`: a monitor row or its overrides; None or missing is the global setting)."""
    return replace(defaults, **{name: own[name] for name in RANGES if own.get(name) is not None})


def checked_value(name: str, value: object) -> int:
    """`value` as the setting `name` (a key of RANGES), or ValueError saying what to write."""
    low, high, hint = RANGES[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    allowed_zero = name == "remind_every_minutes" and value == 0
    if (not isinstance(value, int) or isinstance(value, bool)
            or not (allowed_zero or low <= value <= high)):
        raise ValueError(f"use {hint}")
    return value


def checked_override(name: str, value: object) -> int | None:
    """A monitor's own value of the setting `name`: None (blank) keeps the global setting."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):  # a form's text field
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() else value
    try:
        return checked_value(name, value)
    except ValueError as exc:
        raise ValueError(f"{exc}, or leave it empty for the global setting") from None


def parse_overrides(values: Mapping[str, Any]) -> dict[str, int | None]:
    """A monitor's overrides of the settings (each of RANGES given, None for the global one),
    or InvalidInput naming each bad field."""
    errors = {name: f"unknown field: use {', '.join(RANGES)}" for name in values
              if name not in RANGES}
    overrides: dict[str, int | None] = {}
    for name in RANGES:
        try:
            overrides[name] = checked_override(name, values.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise InvalidInput(errors)
    return overrides



def override_json_schema(name: str) -> dict[str, Any]:
    """A monitor's own value of the setting `name` as JSON Schema (null: the global setting)."""
    low, high, hint = RANGES[name]
    return {"type": ["integer", "null"], "minimum": 0 if name == "remind_every_minutes" else low,
            "maximum": high, "default": None,
            "description": f"This monitor's own value: {hint}; null: the global setting"}
