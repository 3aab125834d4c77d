"""`upwatch rotate-secrets`: every stored secret sealed again with the current (first) key.

Each value is read through its column's type (opened with any of the keys) and written back
(sealed with the first), in one transaction. Rows are locked as they are read on PostgreSQL, so
an edit made meanwhile waits rather than being overwritten; SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.engine import Engine

from storage.alerting_models import AlertChannel, AlertSettings
from storage.models import Monitor
from storage.secret_box import has_secret_options
from storage.tables import table_of


@dataclass(frozen=True, slots=True)
class Resealed:
    monitors: int
    channels: int
    signing_key: bool


def reseal_all(engine: Engine) -> Resealed:
    with engine.begin() as connection:
        monitors = _reseal(connection, table_of(Monitor), "options",
                           lambda options: bool(options) and has_secret_options(options))
        channels = _reseal(connection, table_of(AlertChannel), "secrets",
                           lambda values: any(values.values()) if values else False)
        signing_key = _reseal(connection, table_of(AlertSettings), "secret_key", bool)
    return Resealed(monitors, channels, signing_key > 0)


def _reseal(connection: Connection, table: Table, name: str,
            holds_secret: Callable[[Any], bool]) -> int:
    rows = connection.execute(
        select(table.c.id, table.c[name]).order_by(table.c.id).with_for_update()
    ).all()
    count = 0
    for row_id, value in rows:
        if holds_secret(value):
            connection.execute(update(table).where(table.c.id == row_id).values({name: value}))
            count += 1
    return count
