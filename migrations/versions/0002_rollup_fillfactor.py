"""free space on the pages of rollups and monitor states, for HOT updates on PostgreSQL

Every batch of results rewrites each monitor's current hourly and daily rollup row and its state
row. PostgreSQL can update a row in place on its own page (a HOT update: no new index entries,
less WAL) only when the page has room for the new version; at the default fill factor of 100 the
pages are full, so nearly every update moved the row and added index entries. New pages now keep
a fifth (rollups) or half (states, one short row per monitor) free. SQLite has no such setting.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 08:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FILL_FACTORS = {"rollup": 80, "monitor_state": 50}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, fill_factor in FILL_FACTORS.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {fill_factor})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILL_FACTORS:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
