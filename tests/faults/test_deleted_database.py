"""A SQLite database file deleted or replaced while GridBoard has it open: every later read
and write is refused with a message naming the file, instead of reporting success into a
file that is gone at the next start (or into an empty one made in its place).

PostgreSQL has no file to lose; its server keeps its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.errors import DatabaseFileChange
from core.grid.components import create_component, list_components
from core.models import Component
from tests.factories import MANAGER, TRANSFORMER


def _database(path: Path) -> Database:
    database = Database.from_url(f"sqlite:///{path}")
    database.migrate()
    with database.write() as session:  # a connection in the pool, as in a running app
        create_component(session=session, actor=MANAGER, fields=TRANSFORMER | {"name": "T1"})
    return database


def _write(database: Database, name: str) -> None:
    with database.write() as session:
        create_component(session=session, actor=MANAGER, fields=TRANSFORMER | {"name": name})


def test_a_deleted_database_file_refuses_writes_and_reads_and_is_not_recreated(tmp_path):
    path = tmp_path / "gridboard.db"
    database = _database(path)
    try:
        path.unlink()
        with pytest.raises(DatabaseFileChange) as refused:
            _write(database, "T2")
        assert str(refused.value).startswith(f"the database file {path} was deleted")
        assert "nothing was written" in str(refused.value)
        with pytest.raises(DatabaseFileChange), database.read() as session:
            list_components(session=session)
        assert not path.exists()  # no empty database was made in its place
    finally:
        database.dispose()


def test_a_replaced_database_file_refuses_writes(tmp_path):
    path = tmp_path / "gridboard.db"
    database = _database(path)
    other = _database(tmp_path / "other.db")
    other.dispose()
    try:
        shutil.copyfile(tmp_path / "other.db", tmp_path / "incoming.db")
        (tmp_path / "incoming.db").replace(path)  # as a restore by hand would, with one rename
        with pytest.raises(DatabaseFileChange, match="was replaced by another file"):
            _write(database, "T2")
    finally:
        database.dispose()
    reopened = Database.from_url(f"sqlite:///{path}")
    try:
        with reopened.read() as session:  # the new file holds only its own component
            assert session.scalar(select(func.count()).select_from(Component)) == 1
        _write(reopened, "T3")  # a database opened after the change works as usual
    finally:
        reopened.dispose()


def test_a_file_deleted_during_a_write_is_refused_before_the_commit(tmp_path):
    path = tmp_path / "gridboard.db"
    database = _database(path)
    try:
        with pytest.raises(DatabaseFileChange), database.write() as session:
            create_component(session=session, actor=MANAGER, fields=TRANSFORMER | {"name": "T2"})
            path.unlink()
    finally:
        database.dispose()
