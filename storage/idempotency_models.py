"""The table of Idempotency-Key answers (storage/idempotency.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow


class IdempotencyKey(SQLModel, table=True):
    """One create sent with an Idempotency-Key: who sent it, what it asked, and its answer.

    The row is written before the create runs (status NULL: in progress), so a second request
    with the same key, even at the same instant in another process, meets the unique
    (principal, key) and waits for the answer instead of creating again. Kept 24 hours.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("principal", "key"),
        Index("ix_idempotency_key_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    principal: str = Field(max_length=120)  # the token's actor: "api-token", "token:<name>"
    request: str = Field(max_length=300)  # method and path: "POST /api/v1/monitors"
    body_hash: str = Field(max_length=64)  # HMAC-SHA256 of the body (it may hold a password)
    status: int | None = None  # None while the create runs
    media_type: str | None = Field(default=None, max_length=100)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_type=DateTime(timezone=True), default_factory=utcnow)
