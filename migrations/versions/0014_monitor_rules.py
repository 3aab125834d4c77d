"""alert rules and escalation overrides per monitor

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitor") as batch:
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("remind_every_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("flap_changes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("flap_window_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor") as batch:
        for column in ("flap_window_minutes", "flap_changes", "remind_every_minutes", "rules"):
            batch.drop_column(column)
