"""Alembic environment: runs on the connection GridBoard hands it (see ``core.db.migrate``).
See docs/architecture.md#who-opens-database-connections."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from core.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("core.db.migrate passes a connection; none was given")
        with create_engine(url).connect() as own_connection:
            _run(own_connection)
            own_connection.commit()
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
