"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 17:43:17.737018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("substation", sa.String(length=200), nullable=False),
        sa.Column("component_type", sa.String(length=16), nullable=False),
        sa.Column("capacity_mva", sa.Float(), nullable=True),
        sa.Column("voltage_kv", sa.Float(), nullable=True),
        sa.Column("length_km", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "(component_type = 'transformer' AND coalesce(capacity_mva, 0) > 0 AND coalesce(voltage_kv, 0) > 0 AND length_km IS NULL AND status IS NULL) OR (component_type = 'line' AND coalesce(length_km, 0) > 0 AND coalesce(voltage_kv, 0) > 0 AND capacity_mva IS NULL AND status IS NULL) OR (component_type = 'switch' AND coalesce(status, '') IN ('open', 'closed') AND capacity_mva IS NULL AND voltage_kv IS NULL AND length_km IS NULL)",
            name=op.f("ck_components_fields_of_type"),
        ),
        sa.CheckConstraint(
            "component_type IN ('transformer', 'line', 'switch')", name=op.f("ck_components_type")
        ),
        sa.CheckConstraint(
            "length(trim(name)) > 0 AND length(trim(substation)) > 0",
            name=op.f("ck_components_names"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_components")),
        sa.UniqueConstraint("name", "substation", name="uq_components_name_substation"),
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_components_component_type"), ["component_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_components_substation"), ["substation"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result_json", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_reports_status"),
        ),
        sa.CheckConstraint("period_start < period_end", name=op.f("ck_reports_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_status"), ["status"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('user', 'manager')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("measurement_type", sa.String(length=16), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "measurement_type = 'voltage' OR measurement_type = 'current' OR measurement_type = 'power'",
            name=op.f("ck_measurements_type"),
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_measurements_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
    )
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.create_index(
            "uq_measurements_key", ["component_id", "measurement_type", "timestamp_us"], unique=True
        )


def downgrade() -> None:

    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.drop_index("uq_measurements_key")

    op.drop_table("measurements")
    op.drop_table("users")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_status"))

    op.drop_table("reports")
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_substation"))
        batch_op.drop_index(batch_op.f("ix_components_component_type"))

    op.drop_table("components")
