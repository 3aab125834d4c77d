"""rules over time windows: each firing rule, and the rule side of each rule event

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_state",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("firing_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id", "rule_key"),
    )
    op.create_table(
        "rule_event",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["state_change.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("change_id"),
    )


def downgrade() -> None:
    op.drop_table("rule_event")
    op.drop_table("rule_state")
