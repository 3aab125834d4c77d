"""stored secrets encrypted: monitor options, channel secrets, the link-signing key

Until now every secret was plain text in the database: monitor passwords, bearer tokens and
header values in `monitor.options`, channel secrets (webhook URLs, Twilio and PagerDuty keys) in
`alert_channel.secrets`, and the link-signing key in `alert_settings.secret_key`. This revision
seals them with the keys of storage/key_source.py (UPWATCH_SECRET_KEY, else a generated key: a
file beside a SQLite database, or the new `stored_key` table on PostgreSQL). The signing key's
column becomes TEXT: a sealed key is longer than the 128 characters it had.

Rows are read and written as stored (plain JSON and TEXT columns, not the models' sealing
types), so this revision keeps working whatever the models become; sealing an already sealed
value leaves it as it is.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from config.settings import get_settings
from storage.key_source import open_box
from storage.secret_box import (
    SecretBox,
    open_options,
    open_strings,
    open_text,
    seal_options,
    seal_strings,
    seal_text,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONITORS = sa.table("monitor", sa.column("id", sa.Integer), sa.column("options", sa.JSON))
CHANNELS = sa.table("alert_channel", sa.column("id", sa.Integer), sa.column("secrets", sa.JSON))
SETTINGS = sa.table("alert_settings", sa.column("id", sa.Integer),
                    sa.column("secret_key", sa.Text))


def upgrade() -> None:
    op.create_table(
        "stored_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_settings") as batch:
        batch.alter_column("secret_key", existing_type=sa.String(length=128), type_=sa.Text(),
                           existing_nullable=True)
    box, _source = open_box(op.get_bind(), get_settings())
    _rewrite(MONITORS, "options", seal_options, box)
    _rewrite(CHANNELS, "secrets", seal_strings, box)
    _rewrite(SETTINGS, "secret_key", seal_text, box)


def downgrade() -> None:
    box, _source = open_box(op.get_bind(), get_settings())
    _rewrite(MONITORS, "options", open_options, box)
    _rewrite(CHANNELS, "secrets", open_strings, box)
    _rewrite(SETTINGS, "secret_key", open_text, box)
    with op.batch_alter_table("alert_settings") as batch:
        batch.alter_column("secret_key", existing_type=sa.Text(), type_=sa.String(length=128),
                           existing_nullable=True)
    op.drop_table("stored_key")


def _rewrite(table: sa.TableClause, name: str, rewrite: Callable[[Any, SecretBox], Any],
             box: SecretBox) -> None:
    """Apply `rewrite` to every stored value of one column, writing back only what changed."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c[name])).all()
    for row_id, value in rows:
        if value is None:
            continue
        new_value = rewrite(value, box)
        if new_value != value:
            connection.execute(sa.update(table).where(table.c.id == row_id)
                               .values({name: new_value}))
