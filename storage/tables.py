"""Typed access to SQLModel tables and stored times, for the modules that use SQLAlchemy Core.

Every table model has a `__table__`, but SQLModel's stubs do not declare it; `as_utc` is typed for
a time that may be NULL, and many columns never are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def utc(moment: datetime) -> datetime:
    """A stored time (never NULL) in UTC: SQLite hands datetimes back without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def json_list(value: object) -> list:
    """A JSON list column's value: SQLite hands JSON over as its text in Core rows."""
    if isinstance(value, str):
        value = json.loads(value)
    return list(value) if isinstance(value, list) else []
