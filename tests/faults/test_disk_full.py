"""The database's disk fills up during an import: the import is refused in words, nothing of
it is kept, and the database works on afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from core.db import Database
from core.driver_statements import driver_connection
from core.errors import FullDisk
from core.imports import import_measurements
from tests.factories import MANAGER, make_component
from tests.faults.conftest import (
    assert_consistent,
    make_components,
    measurement_count,
    measurements_csv,
    rollup_count,
)

FULL = (
    "the database disk is full: nothing was written (an import imported nothing); "
    "free disk space or ask the administrator, then try again"
)


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:
    database = Database.from_url(f"sqlite:///{tmp_path / 'gridboard.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def postgres_db(postgres_url) -> Iterator[Database]:
    database = Database.from_url(postgres_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def nearly_full(sqlite_db) -> Iterator[Database]:
    """The same SQLite file opened with room for only ~100 more pages (400 KB): SQLite then
    answers SQLITE_FULL exactly as on a full disk."""
    database = Database.from_url(sqlite_db.url)

    @event.listens_for(database.engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 100}")

    yield database
    database.dispose()


def _import(database: Database, data: bytes) -> None:
    with database.write() as session:
        import_measurements(session=session, actor=MANAGER, source=data, file_name="big.csv")


def test_an_import_that_fills_the_disk_is_refused_and_leaves_the_database_as_it_was(
    sqlite_db, tmp_path, nearly_full
):
    db, url = sqlite_db, sqlite_db.url
    make_components(db)
    _import(db, measurements_csv(tmp_path / "small.csv", per_component=10).read_bytes())
    before, rollups_before = measurement_count(db), rollup_count(db)
    big = measurements_csv(tmp_path / "big.csv", per_component=2_000).read_bytes()

    with pytest.raises(FullDisk) as refused:
        _import(nearly_full, big)

    assert str(refused.value) == FULL
    assert measurement_count(db) == before
    assert rollup_count(db) == rollups_before
    assert_consistent(url)
    make_component(nearly_full, name="After")  # a small write still fits, on the same engine
    _import(db, big)  # with room again, the same file imports
    assert measurement_count(db) == 20 * 3 * 2_000


@pytest.mark.parametrize("through", ["orm", "driver"])
def test_postgresql_disk_full_is_the_same_refusal(postgres_db, through):
    # The server's own SQLSTATE for a full disk (53100), raised inside a write as PostgreSQL
    # raises it when it cannot extend a file; the bulk paths meet it through the raw driver.
    raise_disk_full = (
        "DO $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' "
        "USING ERRCODE = '53100'; END $$"
    )
    with pytest.raises(FullDisk) as refused, postgres_db.write() as session:
        if through == "orm":
            session.execute(text(raise_disk_full))
        else:
            with driver_connection(session).cursor() as cursor:
                cursor.execute(raise_disk_full)
    assert str(refused.value) == FULL
    with postgres_db.write() as session:  # the database is usable afterwards
        assert session.execute(text("SELECT 1")).scalar_one() == 1
