"""substations as records: the substations table, components.substation_id, to_substation_id
and name_key

Every name the components hold (their own substation and lines' other ends) becomes a row,
look-alike spellings (``core.validation.name_key``) folded into the most used one, each
placed where the network map drew it before (its layout stored). The
referencing columns are added in place (nullable: SQLite adds a REFERENCES column only so),
not through the batch mode's table copy, which would cascade to every measurement.

Revision ID: 0012
Revises: 0011
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.grid.network import layout
from core.validation import name_key

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "substations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("x", sa.Float(), nullable=True),
        sa.Column("y", sa.Float(), nullable=True),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_substations_name")),
        sa.CheckConstraint(
            "(x IS NULL) = (y IS NULL) AND (pinned = false OR x IS NOT NULL)",
            name=op.f("ck_substations_position"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substations")),
        sa.UniqueConstraint("name", name=op.f("uq_substations_name")),
        sa.UniqueConstraint("name_key", name=op.f("uq_substations_name_key")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for column in ("substation_id", "to_substation_id"):
            op.execute(
                f"ALTER TABLE components ADD COLUMN {column} INTEGER REFERENCES substations (id)"
            )
        op.execute("ALTER TABLE components ADD COLUMN name_key VARCHAR(200) DEFAULT '' NOT NULL")
    else:
        op.add_column("components", sa.Column("substation_id", sa.Integer(), nullable=True))
        op.add_column("components", sa.Column("to_substation_id", sa.Integer(), nullable=True))
        op.add_column(
            "components",
            sa.Column("name_key", sa.String(200), server_default="", nullable=False),
        )
        for column in ("substation_id", "to_substation_id"):
            op.create_foreign_key(
                op.f(f"fk_components_{column}_substations"),
                "components",
                "substations",
                [column],
                ["id"],
            )
    _fill()
    op.create_index(op.f("ix_components_substation_id"), "components", ["substation_id"])
    op.create_index(op.f("ix_components_to_substation_id"), "components", ["to_substation_id"])
    op.create_index(
        "uq_components_substation_name_key",
        "components",
        ["substation_id", "name_key"],
        unique=True,
    )


def _fill() -> None:
    """One substation per name key, spelt as most components spell it; every component
    pointed at its substations and given its own name key."""
    bind = op.get_bind()
    components = sa.table(
        "components",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("substation", sa.String),
        sa.column("to_substation", sa.String),
        sa.column("substation_id", sa.Integer),
        sa.column("to_substation_id", sa.Integer),
        sa.column("name_key", sa.String),
    )
    substations = sa.table(
        "substations",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    rows = bind.execute(
        sa.select(
            components.c.id, components.c.name, components.c.substation, components.c.to_substation
        )
    ).all()
    uses: Counter[str] = Counter()
    for row in rows:
        uses[row.substation] += 1
        if row.to_substation:
            uses[row.to_substation] += 1
    spelling: dict[str, str] = {}
    for name, _count in sorted(uses.items(), key=lambda item: (-item[1], item[0])):
        spelling.setdefault(name_key(name), name)
    ids: dict[str, int] = {}
    for key, name in sorted(spelling.items(), key=lambda item: item[1]):
        ids[key] = bind.execute(
            sa.insert(substations).values(name=name, name_key=key).returning(substations.c.id)
        ).scalar_one()
    # Each substation stays where the map drew it before: the layout of every name and line.
    edges = [
        (spelling[name_key(row.substation)], spelling[name_key(row.to_substation)])
        for row in rows
        if row.to_substation
    ]
    places = layout(sorted(spelling.values()), edges)
    positioned = sa.table(
        "substations",
        sa.column("id", sa.Integer),
        sa.column("x", sa.Float),
        sa.column("y", sa.Float),
    )
    for key, name in spelling.items():
        x, y = places[name]
        bind.execute(sa.update(positioned).where(positioned.c.id == ids[key]).values(x=x, y=y))
    for row in rows:
        end = row.to_substation
        bind.execute(
            sa.update(components)
            .where(components.c.id == row.id)
            .values(
                substation=spelling[name_key(row.substation)],
                substation_id=ids[name_key(row.substation)],
                to_substation=spelling[name_key(end)] if end else None,
                to_substation_id=ids[name_key(end)] if end else None,
                name_key=name_key(row.name),
            )
        )


def downgrade() -> None:
    op.drop_index("uq_components_substation_name_key", table_name="components")
    op.drop_index(op.f("ix_components_to_substation_id"), table_name="components")
    op.drop_index(op.f("ix_components_substation_id"), table_name="components")
    if op.get_bind().dialect.name == "sqlite":
        for column in ("name_key", "to_substation_id", "substation_id"):
            op.execute(f"ALTER TABLE components DROP COLUMN {column}")
    else:
        for column in ("substation_id", "to_substation_id"):
            op.drop_constraint(
                op.f(f"fk_components_{column}_substations"), "components", type_="foreignkey"
            )
        for column in ("name_key", "to_substation_id", "substation_id"):
            op.drop_column("components", column)
    op.drop_table("substations")
