"""The table that keeps a generated key in the database (see storage/key_source.py)."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class StoredKey(SQLModel, table=True):
    """One row at most: the generated key of a PostgreSQL deployment without UPWATCH_SECRET_KEY.

    Several processes share one database and no file, so the key lives with the data, as the
    link-signing key always has: it keeps secrets out of column dumps and logs of single tables,
    not out of a copy of the whole database. UPWATCH_SECRET_KEY does that.
    """

    __tablename__ = "stored_key"

    id: int = Field(default=1, primary_key=True)
    key: str = Field(sa_column=Column(Text, nullable=False))
