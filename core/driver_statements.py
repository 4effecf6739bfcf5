"""Below the ORM, in the session's transaction: its DB-API connection for the bulk paths, and
statements compiled once that a single post runs on the driver's cursor. See
docs/architecture.md#who-opens-database-connections."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ExecutableReturnsRows


def driver_connection(session: Session) -> Any:
    """The DB-API connection (sqlite3 or psycopg) under the session's transaction, for the
    bulk paths that ``executemany`` or ``COPY`` below the ORM."""
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's connection is closed")
    return driver


class DriverStatement:
    """A statement that runs on every single post (the caller's token or user, the
    component's key, the insert), built once with SQLAlchemy Core and compiled by SQLAlchemy
    once per dialect: its SQL, the order of its parameters and its columns' result
    processors. ``first`` runs it on the DB-API cursor of the session's transaction, which
    skips SQLAlchemy's work per execution (most of a single post's write: bench/RESULTS.md);
    values come back as SQLAlchemy's column types make them."""

    def __init__(self, statement: ExecutableReturnsRows) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def first(self, session: Session, parameters: dict[str, Any]) -> Any | None:
        """The first row (a named tuple of the statement's columns), or ``None``."""
        driver = driver_connection(session)
        dialect = session.get_bind().dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(parameters))
            row = cursor.fetchone()
            return None if row is None else compiled.row(cursor.description, row)
        finally:
            cursor.close()


class _Compiled:
    """A statement as SQLAlchemy compiles it for one dialect."""

    def __init__(self, statement: ExecutableReturnsRows, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        positions = getattr(compiled, "positiontup", None)  # qmark (SQLite); psycopg: by name
        self.names: tuple[str, ...] | None = tuple(positions) if positions else None
        # values written into the statement (``column == 5``); ``bindparam(name)`` has none
        self.defaults = {
            name: value for name, value in compiled.params.items() if value is not None
        }
        self.dialect = dialect
        self.columns = list(statement.exported_columns)
        self.tuple = namedtuple("Row", [column.key for column in self.columns])  # type: ignore[misc]
        # A type's result processor may depend on the driver's type code (psycopg's numbers):
        # taken from the first result's description, the same for every later one.
        self.converters: list[Any] | None = None

    def parameters(self, values: dict[str, Any]) -> Any:
        values = {**self.defaults, **values} if self.defaults else values
        return values if self.names is None else tuple(values[name] for name in self.names)

    def row(self, description: Any, values: Sequence[Any]) -> Any:
        if self.converters is None:
            self.converters = [
                column.type.dialect_impl(self.dialect).result_processor(self.dialect, found[1])
                for column, found in zip(self.columns, description, strict=True)
            ]
        return self.tuple(
            *(
                value if convert is None else convert(value)
                for convert, value in zip(self.converters, values, strict=True)
            )
        )
