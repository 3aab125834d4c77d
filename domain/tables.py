"""Lookup tables keyed by a closed set of names (states, bands), checked to be complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

Key = TypeVar("Key", bound=str)
Value = TypeVar("Value")


def one_per(keys: tuple[Key, ...], values: Mapping[Key, Value], what: str) -> dict[str, Value]:
    """`values` in the order of `keys`; ValueError unless it holds exactly one entry per key.
    Tables are built on import, so one that forgets a new name stops the program at once
    rather than showing a visitor a raw name or a wrong colour. The answer is keyed by plain
    `str`, as the names come from the database and from requests."""
    missing = [key for key in keys if key not in values]
    unknown = [key for key in values if key not in keys]
    if missing or unknown:
        raise ValueError(f"one entry per {what}: missing {missing}, unknown {unknown}")
    return {key: values[key] for key in keys}
