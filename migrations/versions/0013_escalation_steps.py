"""escalation steps and the digest

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_settings") as batch:
        batch.add_column(sa.Column("digest_severities", sa.JSON(), nullable=False,
                                   server_default="[]"))
    op.create_table(
        "escalation_step",
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("after_minutes", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["alert_channel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("severity", "after_minutes", "channel_id"),
    )
    op.create_table(
        "digest_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["alert_channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["state_change.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "channel_id", name="uq_digest_entry_once"),
    )
    op.create_index("ix_digest_entry_channel_id", "digest_entry", ["channel_id"])
    op.create_index("ix_digest_entry_delivery_id", "digest_entry", ["delivery_id"])
    op.create_table(
        "digest",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["alert_channel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id", "hour"),
    )


def downgrade() -> None:
    op.drop_table("digest")
    op.drop_index("ix_digest_entry_delivery_id", table_name="digest_entry")
    op.drop_index("ix_digest_entry_channel_id", table_name="digest_entry")
    op.drop_table("digest_entry")
    op.drop_table("escalation_step")
    with op.batch_alter_table("alert_settings") as batch:
        batch.drop_column("digest_severities")
