"""limits and alarms: limits, limit_defaults, alarms, alarm_events; components.rated_current_a

The alarm engine (core/alarms) watches measurements against limits derived from the grid model
and a manager's overrides; a line's optional rated current gives its current limit. SQLite adds
the column in place with its CHECK constraint (a batch table copy would cascade to every
measurement), as 0008 does.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_NAME = "ck_components_rated_current_a"
CHECK = "rated_current_a IS NULL OR (component_type = 'line' AND rated_current_a > 0)"
ALARM_STATES = (
    "state IN ('active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged', 'closed')"
)
LIMIT_SCOPE = (
    "(component_id IS NOT NULL AND component_type IS NULL AND voltage_kv IS NULL)"
    " OR (component_id IS NULL AND component_type IS NOT NULL AND voltage_kv IS NOT NULL)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE components ADD COLUMN rated_current_a FLOAT "
            f"CONSTRAINT {CHECK_NAME} CHECK ({CHECK})"
        )
    else:
        op.add_column("components", sa.Column("rated_current_a", sa.Float(), nullable=True))
        op.create_check_constraint(CHECK_NAME, "components", CHECK)
    op.create_table(
        "limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=True),
        sa.Column("component_type", sa.String(16), nullable=True),
        sa.Column("voltage_kv", sa.Float(), nullable=True),
        sa.Column("measurement_type", sa.String(16), nullable=False),
        sa.Column("no_limit", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("high_alarm", sa.Float(), nullable=True),
        sa.Column("high_warning", sa.Float(), nullable=True),
        sa.Column("low_alarm", sa.Float(), nullable=True),
        sa.Column("low_warning", sa.Float(), nullable=True),
        sa.Column("deadband_pct", sa.Float(), nullable=True),
        sa.Column("delay_samples", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.CheckConstraint(LIMIT_SCOPE, name=op.f("ck_limits_scope")),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_limits_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_limits")),
    )
    op.create_index(op.f("ix_limits_component_id"), "limits", ["component_id"], unique=False)
    op.create_table(
        "limit_defaults",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_limit_defaults")),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("measurement_type", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("worst_value", sa.Float(), nullable=True),
        sa.Column("worst_at_us", sa.BigInteger(), nullable=True),
        sa.Column("raised_at_us", sa.BigInteger(), nullable=False),
        sa.Column("cleared_at_us", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("shelved_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shelve_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ALARM_STATES, name=op.f("ck_alarms_state")),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_alarms_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index(
        "uq_alarms_key",
        "alarms",
        ["component_id", "measurement_type", "kind", "raised_at_us"],
        unique=True,
    )
    op.create_index(op.f("ix_alarms_state"), "alarms", ["state"], unique=False)
    op.create_table(
        "alarm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["alarms.id"],
            name=op.f("fk_alarm_events_alarm_id_alarms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_events")),
    )
    op.create_index(op.f("ix_alarm_events_alarm_id"), "alarm_events", ["alarm_id"], unique=False)


def downgrade() -> None:
    op.drop_table("alarm_events")
    op.drop_table("alarms")
    op.drop_table("limit_defaults")
    op.drop_table("limits")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE components DROP COLUMN rated_current_a")
    else:
        op.drop_constraint(CHECK_NAME, "components", type_="check")
        op.drop_column("components", "rated_current_a")
