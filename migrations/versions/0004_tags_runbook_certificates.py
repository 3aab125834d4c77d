"""monitor tags and runbook links; the certificate each TLS monitor was last served

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitor") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("runbook_url", sa.String(length=2048), nullable=True))
    op.create_table(
        "certificate",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=95), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_fingerprint", sa.String(length=95), nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id"),
    )


def downgrade() -> None:
    op.drop_table("certificate")
    with op.batch_alter_table("monitor") as batch:
        batch.drop_column("runbook_url")
        batch.drop_column("tags")
