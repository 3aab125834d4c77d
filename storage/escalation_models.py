"""Tables: escalation steps per severity, and the hourly digest (what it collects, what it sent).

A step's channel is kept by id, so renaming a channel keeps its steps and deleting it drops them.
The digest's outbox rule: `digest` has one row per channel and hour, written in the transaction
that plans its one delivery, so however many dispatchers look, each hour is sent once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class EscalationStepChannel(SQLModel, table=True):
    """A monitor of `severity` whose outage nobody acknowledged within `after_minutes` pages
    this channel too."""

    __tablename__ = "escalation_step"

    severity: str = Field(primary_key=True, max_length=16)
    after_minutes: int = Field(primary_key=True)
    channel_id: int = Field(primary_key=True, foreign_key="alert_channel.id", ondelete="CASCADE")


class DigestEntry(SQLModel, table=True):
    """One change a channel hears in its hourly digest instead of as a page."""

    __tablename__ = "digest_entry"
    __table_args__ = (UniqueConstraint("event_id", "channel_id", name="uq_digest_entry_once"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="alert_channel.id", ondelete="CASCADE", index=True)
    event_id: int = Field(foreign_key="state_change.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)  # the NoticeKind it would have been sent as
    hour: datetime = _ts()  # the start of the UTC hour whose digest lists it
    delivery_id: int | None = Field(default=None, index=True)  # set once its digest is planned


class Digest(SQLModel, table=True):
    """One channel's digest of one hour: planned once (the key), sent through the outbox."""

    __tablename__ = "digest"

    channel_id: int = Field(primary_key=True, foreign_key="alert_channel.id", ondelete="CASCADE")
    hour: datetime = _ts(primary_key=True)
    delivery_id: int | None = None
