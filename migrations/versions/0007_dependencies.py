"""dependencies between monitors, and the children an outage blocked

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitor") as batch:
        batch.add_column(sa.Column("depends_on", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("affected", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("affected")
    with op.batch_alter_table("monitor") as batch:
        batch.drop_column("depends_on")
