"""an incident's severity: the one its monitor had when it opened

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("severity", sa.String(length=16), nullable=True))
    # Incidents opened before severities were kept take their monitor's.
    op.execute("UPDATE incident SET severity = (SELECT monitor.severity FROM monitor "
               "WHERE monitor.id = incident.monitor_id)")


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("severity")
