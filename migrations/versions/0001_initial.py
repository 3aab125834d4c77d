"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:29:14.735491
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("quiet_end", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("quiet_timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "quiet_min_severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "alert_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remind_every_minutes", sa.Integer(), nullable=False),
        sa.Column("flap_changes", sa.Integer(), nullable=False),
        sa.Column("flap_window_minutes", sa.Integer(), nullable=False),
        sa.Column("secret_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "monitor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("failures_before_down", sa.Integer(), nullable=False),
        sa.Column("successes_before_up", sa.Integer(), nullable=False),
        sa.Column("retry_interval", sa.Integer(), nullable=True),
        sa.Column("push_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("show_url", sa.Boolean(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("push_token"),
    )
    with op.batch_alter_table("monitor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_slug"), ["slug"], unique=True)

    op.create_table(
        "certificate_warning",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("not_after", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id", "not_after", "threshold_days"),
    )
    op.create_table(
        "check_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_result_monitor_time", ["monitor_id", "checked_at"], unique=False
        )

    op.create_table(
        "flap_state",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id"),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_monitor_id"), ["monitor_id"], unique=False)

    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=True),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cron", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("maintenance_window", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_window_monitor_id"), ["monitor_id"], unique=False
        )

    op.create_table(
        "monitor_route",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["alert_channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id", "channel_id"),
    )
    op.create_table(
        "monitor_state",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_latency_ms", sa.Float(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("consecutive_successes", sa.Integer(), nullable=False),
        sa.Column("cert_not_after", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id"),
    )
    op.create_table(
        "rollup",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bucket_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("up_s", sa.Integer(), nullable=False),
        sa.Column("degraded_s", sa.Integer(), nullable=False),
        sa.Column("down_s", sa.Integer(), nullable=False),
        sa.Column("maintenance_s", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("histogram", sa.LargeBinary(), nullable=False),
        sa.Column("min_ms", sa.Float(), nullable=True),
        sa.Column("max_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id", "period", "bucket_start"),
    )
    op.create_table(
        "incident_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_update_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "state_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("to_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("state_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_state_change_monitor_id"), ["monitor_id"], unique=False
        )

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("needs_open_incident", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["alert_channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["state_change.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "channel_id", "kind", "sequence", name="uq_delivery_once"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("channel_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_attempt_delivery_id"), ["delivery_id"], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_attempt_delivery_id"))

    op.drop_table("delivery_attempt")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_incident_id"))
        batch_op.drop_index("ix_delivery_due")

    op.drop_table("delivery")
    with op.batch_alter_table("state_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_state_change_monitor_id"))

    op.drop_table("state_change")
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_update_incident_id"))

    op.drop_table("incident_update")
    op.drop_table("rollup")
    op.drop_table("monitor_state")
    op.drop_table("monitor_route")
    with op.batch_alter_table("maintenance_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_window_monitor_id"))

    op.drop_table("maintenance_window")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_monitor_id"))

    op.drop_table("incident")
    op.drop_table("flap_state")
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.drop_index("ix_check_result_monitor_time")

    op.drop_table("check_result")
    op.drop_table("certificate_warning")
    with op.batch_alter_table("monitor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_slug"))

    op.drop_table("monitor")
    op.drop_table("alert_settings")
    op.drop_table("alert_channel")
