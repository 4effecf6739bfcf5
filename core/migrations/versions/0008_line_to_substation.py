"""a line's second end: components.to_substation

A line connects two substations: ``substation`` stays its first end (and part of its key with
the name), ``to_substation`` is the other end, empty where the data does not say. Only a line
has one, and never the substation it starts in.

SQLite adds the column in place with its CHECK constraint, instead of the batch mode's table
copy: dropping the old ``components`` table would cascade to every measurement.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_NAME = "ck_components_to_substation"
CHECK = (
    "to_substation IS NULL OR (component_type = 'line' "
    "AND length(trim(to_substation)) > 0 AND to_substation <> substation)"
)
INDEX_NAME = "ix_components_to_substation"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE components ADD COLUMN to_substation VARCHAR(200) "
            f"CONSTRAINT {CHECK_NAME} CHECK ({CHECK})"
        )
    else:
        op.add_column("components", sa.Column("to_substation", sa.String(200), nullable=True))
        op.create_check_constraint(CHECK_NAME, "components", CHECK)
    op.create_index(INDEX_NAME, "components", ["to_substation"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX_NAME, table_name="components")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE components DROP COLUMN to_substation")
    else:
        op.drop_constraint(CHECK_NAME, "components", type_="check")
        op.drop_column("components", "to_substation")
