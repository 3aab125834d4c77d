"""What a channel's ETag is made of (web/channels_api): its settings as stored, and a digest of
its secrets as sealed at rest. The sealed text changes whenever they are written, so a changed
secret changes the ETag, while the digest, of ciphertext, tells nothing about the secret; and
nothing needs a key that a read would have to create."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, Text, cast, select

from storage.alerting_models import AlertChannel
from storage.db import get_engine
from storage.tables import table_of

CHANNELS = table_of(AlertChannel)
# What sending changes on the row: not settings.
_RUNTIME_COLUMNS = ("failing_since", "failing_error")


def channel_version(channel_id: int) -> dict[str, Any] | None:
    """The channel's settings and `secrets_digest`; None: no such channel."""
    with get_engine().connect() as connection:
        return version_in(connection, channel_id)


def version_in(connection: Connection, channel_id: int) -> dict[str, Any] | None:
    """`channel_version`, read in `connection` (a write's own transaction, for If-Match)."""
    settings = [c for c in CHANNELS.c if c.name not in (*_RUNTIME_COLUMNS, "secrets")]
    row = connection.execute(
        select(*settings, cast(CHANNELS.c.secrets, Text).label("sealed"))
        .where(CHANNELS.c.id == channel_id)).mappings().first()
    if row is None:
        return None
    version = {k: v for k, v in row.items() if k != "sealed"}
    version["secrets_digest"] = hashlib.sha256(str(row["sealed"]).encode()).hexdigest()
    return version
