from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, select

from core.access.users import create_user
from core.db import Database, alembic_config, head_revision
from core.measurements.measurements import add_measurement
from core.models import Base
from core.reports.jobs import request_report
from tests.factories import MANAGER, make_component

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_migrations_build_exactly_the_models(migrated: Database):
    with migrated.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _schema(database: Database) -> dict[str, dict[str, Any]]:
    """Every table's columns, keys, indexes and constraints, as the database reports them."""
    inspector = inspect(database.engine)  # a new inspector: nothing cached from before
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table),
            "foreign_keys": inspector.get_foreign_keys(table),
            "indexes": sorted(inspector.get_indexes(table), key=repr),
            "unique": sorted(inspector.get_unique_constraints(table), key=repr),
            "checks": sorted(inspector.get_check_constraints(table), key=repr),
        }
        for table in sorted(inspector.get_table_names())
    }


def _rows(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    reflected = MetaData()
    with database.engine.connect() as connection:
        reflected.reflect(connection)
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in reflected.sorted_tables
        }


def test_migrating_twice_changes_nothing(db: Database):
    """Running the migrations again on a database at the newest revision, through the app's
    start (``migrate``) and through Alembic itself, keeps every table, column, index and
    constraint and every row as they were."""
    component = make_component(db)
    with db.write() as session:
        create_user(session=session, actor=MANAGER, username="ulf", password="grid-watch-123")
        add_measurement(
            session=session,
            actor=MANAGER,
            component_id=component.id,
            measurement_type="voltage",
            timestamp="2024-01-01T00:00:00Z",
            value=110.0,
        )
        request_report(session=session, actor=MANAGER, start=START, end=START + timedelta(days=1))
    schema, rows = _schema(db), _rows(db)
    assert {"components", "measurements", "users", "reports", "alembic_version"} <= set(schema)
    assert rows["alembic_version"] == [(head_revision(),)]
    assert all(rows[table] for table in ("components", "measurements", "users", "reports"))

    db.migrate()
    assert (_schema(db), _rows(db)) == (schema, rows)
    with db.engine.connect() as connection:  # the full upgrade, not the at-head shortcut
        command.upgrade(alembic_config(connection), "head")
        connection.commit()
    assert (_schema(db), _rows(db)) == (schema, rows)


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


def test_head_revision_from_the_file_names_is_alembics_head():
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_an_up_to_date_database_opens_without_importing_alembic(migrated: Database):
    """Every command and app start opens the database; Alembic's import is skipped when no
    migration is pending, and still runs (and creates the schema) when one is."""
    program = (
        "import sys\n"
        "from core.db import open_database\n"
        "open_database(sys.argv[1]).dispose()\n"
        "print('alembic' in sys.modules)\n"
    )
    url = migrated.engine.url.render_as_string(hide_password=False)
    opened = subprocess.run(
        [sys.executable, "-c", program, url], capture_output=True, text=True, check=True
    )
    assert opened.stdout.strip() == "False"


def test_a_new_database_is_still_migrated(tmp_path):
    database = Database.from_url(f"sqlite:///{tmp_path / 'new.db'}")
    database.migrate()
    with database.engine.connect() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert version == head_revision()
    assert "measurements" in inspect(database.engine).get_table_names()


def test_0007_rebuilds_existing_rollups_keyed_by_voltage_level(tmp_path):
    from alembic import command

    database = Database.from_url(f"sqlite:///{tmp_path / 'old.db'}")

    def migrate(to, how=command.upgrade):
        with database.engine.begin() as connection:
            how(alembic_config(connection), to)

    migrate("0004")
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO components (id, name, substation, component_type, voltage_kv, "
            "capacity_mva, status, created_by, updated_by, created_at, updated_at) VALUES "
            "(1, 'T1', 'S', 'transformer', 110, 40, NULL, 'x', 'x', '2024-01-01', '2024-01-01'),"
            "(2, 'T2', 'S', 'transformer', 20, 1, NULL, 'x', 'x', '2024-01-01', '2024-01-01'),"
            "(3, 'S1', 'S', 'switch', NULL, NULL, 'closed', 'x', 'x', '2024-01-01', '2024-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO measurements (component_id, measurement_type, timestamp_us, value) "
            "VALUES (1, 'voltage', 0, 111.0), (2, 'voltage', 60000000, 19.5), "
            "(3, 'current', 0, 4.0)"
        )
        connection.exec_driver_sql(
            "INSERT INTO measurement_rollups VALUES ('transformer', 'voltage', 0, 2, 130.5, "
            "19.5, 111.0), ('switch', 'current', 0, 1, 4.0, 4.0, 4.0)"
        )
    migrate("0007")
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT component_type, voltage_kv, sample_count, value_sum FROM measurement_rollups "
            "ORDER BY component_type, voltage_kv"
        ).all()
    assert rows == [
        ("switch", 0.0, 1, 4.0),
        ("transformer", 20.0, 1, 19.5),
        ("transformer", 110.0, 1, 111.0),
    ]
    migrate("0004", command.downgrade)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT component_type, sample_count, value_sum FROM measurement_rollups "
            "ORDER BY component_type"
        ).all() == [("switch", 1, 4.0), ("transformer", 2, 130.5)]
    database.dispose()
