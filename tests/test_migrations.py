from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.db import Database
from core.models import Base


def test_migrations_build_exactly_the_models(migrated: Database):
    with migrated.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrating_twice_changes_nothing(migrated: Database):
    migrated.migrate()
    tables = set(inspect(migrated.engine).get_table_names())
    assert {"components", "measurements", "users", "reports", "alembic_version"} <= tables


def test_sqlite_is_tuned(tmp_path):
    database = Database.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 10000,
        "synchronous": 1,
    }
