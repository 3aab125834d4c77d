"""The table of the people who sign in to the dashboard with a password (storage/users.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from storage.models import utcnow


class DashboardUser(SQLModel, table=True):
    """One person: a username, a role (domain/roles) and the argon2id hash of a password.

    No hash means the password is UPWATCH_ADMIN_PASSWORD: only the bootstrap admin's row, made
    at its first sign-in, has none.
    """

    __tablename__ = "dashboard_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)  # viewer | editor | admin
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_type=DateTime(timezone=True), default_factory=utcnow)
    last_sign_in_at: datetime | None = Field(sa_type=DateTime(timezone=True), default=None)
