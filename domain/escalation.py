"""Reminders and flap detection as an operator sets them: what values make sense (pure).

Reminders repeat every N minutes while an incident is open and unacknowledged (0: off); more
than `flap_changes` state changes within `flap_window_minutes` make a monitor flapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

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

    def to_api(self) -> dict[str, int]:
        return asdict(self)


def parse_escalation(values: Mapping[str, Any], current: EscalationSettings) -> EscalationSettings:
    """`current` with the fields given in `values` changed, or InvalidInput naming each bad
    field (nothing changes then)."""
    if not isinstance(values, Mapping):
        raise InvalidInput({"settings": "send the settings as an object of fields"})
    errors = {name: f"unknown field: use {', '.join(RANGES)}" for name in values
              if name not in RANGES}
    merged = current.to_api()
    for name, (low, high, hint) in RANGES.items():
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        allowed_zero = name == "remind_every_minutes" and value == 0
        if (not isinstance(value, int) or isinstance(value, bool)
                or not (allowed_zero or low <= value <= high)):
            errors[name] = f"use {hint}"
        else:
            merged[name] = value
    if errors:
        raise InvalidInput(errors)
    return EscalationSettings(**merged)
