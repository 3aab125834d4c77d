"""Typed access to SQLModel tables and stored times, for the modules that use SQLAlchemy Core.

Every table model has a `__table__`, but SQLModel's stubs do not declare it; `as_utc` is typed for
a time that may be NULL, and many columns never are.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def utc(moment: datetime) -> datetime:
    """A stored time (never NULL) in UTC: SQLite hands datetimes back without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
