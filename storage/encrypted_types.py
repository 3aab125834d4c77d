"""Column types that seal secrets on the way into the database and open them on the way out.

The rest of the code reads and writes plain values, as before sealing existed; storage/secret_box.py
says what is sealed and how. A value is only handed to the engine's box when it holds a secret,
so reading thousands of monitors without one (the probe engine's schedule) costs no crypto.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from storage.secret_box import (
    box_for,
    has_plain_strings,
    has_sealed_options,
    has_sealed_strings,
    has_secret_options,
    is_sealed_text,
    open_options,
    open_strings,
    open_text,
    seal_options,
    seal_strings,
    seal_text,
)


class SealedOptions(TypeDecorator[dict[str, Any]]):
    """A monitor's options (JSON): secret options and header values sealed."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not value or not has_secret_options(value):
            return value
        return seal_options(value, box_for(dialect))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not value or not has_sealed_options(value):
            return value
        return open_options(value, box_for(dialect))


class SealedStrings(TypeDecorator[dict[str, str]]):
    """A JSON object of secrets (a channel's): every value sealed."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not value or not has_plain_strings(value):
            return value
        return seal_strings(value, box_for(dialect))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not value or not has_sealed_strings(value):
            return value
        return open_strings(value, box_for(dialect))


class SealedText(TypeDecorator[str]):
    """One secret string (the link-signing key)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not value:
            return value
        return seal_text(value, box_for(dialect))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not value or not is_sealed_text(value):
            return value
        return open_text(value, box_for(dialect))
