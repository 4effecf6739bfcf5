"""rollups keyed by voltage level

Reports give daily averages per voltage level, so the rollups carry the level of the
components they sum (0 for components without one). The table is built again from raw
measurements, in both directions.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKET_US = 15 * 60 * 1_000_000  # fixed here: later changes to core must not alter history
_BUCKET = f"(m.timestamp_us - (((m.timestamp_us % {BUCKET_US}) + {BUCKET_US}) % {BUCKET_US}))"


def _stats() -> list[sa.Column[object]]:
    return [
        sa.Column("sample_count", sa.BigInteger(), nullable=False),
        sa.Column("value_sum", sa.Float(), nullable=False),
        sa.Column("value_min", sa.Float(), nullable=False),
        sa.Column("value_max", sa.Float(), nullable=False),
    ]


def _create(*, with_level: bool) -> None:
    key = ["component_type", "measurement_type", "bucket_us"]
    level = [sa.Column("voltage_kv", sa.Float(), nullable=False)] if with_level else []
    op.create_table(
        "measurement_rollups",
        sa.Column("component_type", sa.String(length=16), nullable=False),
        sa.Column("measurement_type", sa.String(length=16), nullable=False),
        sa.Column("bucket_us", sa.BigInteger(), nullable=False),
        *level,
        *_stats(),
        sa.PrimaryKeyConstraint(
            *key, *(["voltage_kv"] if with_level else []), name=op.f("pk_measurement_rollups")
        ),
    )


def _fill(*, with_level: bool) -> None:
    level = ", coalesce(c.voltage_kv, 0)" if with_level else ""
    op.execute(
        "INSERT INTO measurement_rollups (component_type, measurement_type, bucket_us"
        f"{', voltage_kv' if with_level else ''}, sample_count, value_sum, value_min, value_max) "
        f"SELECT c.component_type, m.measurement_type, {_BUCKET}{level}, count(*), "
        "sum(m.value), min(m.value), max(m.value) "
        "FROM measurements m JOIN components c ON c.id = m.component_id "
        f"GROUP BY c.component_type, m.measurement_type, {_BUCKET}{level}"
    )


def _analyze() -> None:
    # Without statistics PostgreSQL plans a report's statement for an empty table (a sort
    # that spills to disk: 5x slower at 1M measurements) until autovacuum gets to it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE measurement_rollups")


def upgrade() -> None:
    op.drop_table("measurement_rollups")
    _create(with_level=True)
    _fill(with_level=True)
    _analyze()


def downgrade() -> None:
    op.drop_table("measurement_rollups")
    _create(with_level=False)
    _fill(with_level=False)
    _analyze()
