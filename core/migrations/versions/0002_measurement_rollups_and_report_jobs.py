"""measurement rollups and report jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:53:08.609033
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKET_US = 15 * 60 * 1_000_000  # fixed here: later changes to core must not alter history


def upgrade() -> None:

    op.create_table(
        "measurement_rollups",
        sa.Column("component_type", sa.String(length=16), nullable=False),
        sa.Column("measurement_type", sa.String(length=16), nullable=False),
        sa.Column("bucket_us", sa.BigInteger(), nullable=False),
        sa.Column("sample_count", sa.BigInteger(), nullable=False),
        sa.Column("value_sum", sa.Float(), nullable=False),
        sa.Column("value_min", sa.Float(), nullable=False),
        sa.Column("value_max", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "component_type", "measurement_type", "bucket_us", name=op.f("pk_measurement_rollups")
        ),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))

    # Measurements stored before this migration get their rollups now.
    bucket = f"(m.timestamp_us - (((m.timestamp_us % {BUCKET_US}) + {BUCKET_US}) % {BUCKET_US}))"
    op.execute(
        "INSERT INTO measurement_rollups (component_type, measurement_type, bucket_us, "
        "sample_count, value_sum, value_min, value_max) "
        f"SELECT c.component_type, m.measurement_type, {bucket}, count(*), sum(m.value), "
        "min(m.value), max(m.value) FROM measurements m JOIN components c ON c.id = m.component_id "
        f"GROUP BY c.component_type, m.measurement_type, {bucket}"
    )


def downgrade() -> None:

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("cancel_requested")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("claimed_by")

    op.drop_table("measurement_rollups")
