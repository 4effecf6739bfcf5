"""alarms by raise time: an index on alarms.raised_at_us

The Alarms page's history reads newest first, and every list filtered by a period reads a range
of raise times: both walk this index instead of sorting the whole table.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_alarms_raised_at_us"), "alarms", ["raised_at_us"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alarms_raised_at_us"), table_name="alarms")
