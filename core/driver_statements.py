"""Below the ORM, in the session's transaction: its DB-API connection for the bulk paths, and
``DriverStatement``, the one way the write path sends its SQL (compiled once per dialect). See
docs/architecture.md#who-opens-database-connections."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import ExecutableReturnsRows


def driver_connection(session: Session) -> Any:
    """The DB-API connection (sqlite3 or psycopg) under the session's transaction, for the
    bulk paths that ``executemany`` or ``COPY`` below the ORM."""
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's connection is closed")
    return driver


class DriverStatement:
    """A statement that runs on every write (the caller's token or user, the component's
    key, the insert, the rollups' upsert), built once with SQLAlchemy Core and compiled by
    SQLAlchemy once per dialect: its SQL, the order of its parameters and its columns' result
    processors. It runs on the DB-API cursor of the session's transaction, which skips
    SQLAlchemy's work per execution (most of a single post's write: bench/RESULTS.md);
    values come back as SQLAlchemy's column types make them."""

    def __init__(
        self, statement: ExecutableReturnsRows | UpdateBase, *, processed: Collection[str] = ()
    ) -> None:
        """``processed``: the parameters whose values go through their column type's own bind
        processing (a ``UtcDateTime``); the others reach the driver as they are given."""
        self.statement = statement
        self.processed = tuple(processed)
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, session: Session) -> _Compiled:
        dialect = session.get_bind().dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(
                self.statement, dialect, self.processed
            )
        return found

    def first(self, session: Session, parameters: dict[str, Any]) -> Any | None:
        """The first row (a named tuple of the statement's columns), or ``None``."""
        compiled = self.compiled(session)
        cursor = driver_connection(session).cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(parameters))
            row = cursor.fetchone()
            return None if row is None else compiled.row(cursor.description, row)
        finally:
            cursor.close()

    def rows(self, session: Session, parameters: dict[str, Any]) -> list[Any]:
        """Every row as the driver returns it (plain tuples, no result processing: for
        columns whose driver values are already their Python values, integers and floats)."""
        compiled = self.compiled(session)
        cursor = driver_connection(session).cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(parameters))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def run(self, session: Session, parameters: dict[str, Any]) -> None:
        """Execute once, for its effect (one plain statement: psycopg's ``executemany``
        pipelines, which costs a round trip more than one row needs)."""
        compiled = self.compiled(session)
        cursor = driver_connection(session).cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(parameters))
        finally:
            cursor.close()

    def run_many(
        self, session: Session, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Execute once per row; each row holds the values of ``columns`` in that order (a
        frame's ``iter_rows``: on SQLite passed to the driver as they are when the order is
        the statement's own)."""
        compiled = self.compiled(session)
        cursor = driver_connection(session).cursor()
        try:
            cursor.executemany(compiled.sql, compiled.many(columns, rows))
        finally:
            cursor.close()


class _Compiled:
    """A statement as SQLAlchemy compiles it for one dialect."""

    def __init__(
        self,
        statement: ExecutableReturnsRows | UpdateBase,
        dialect: Dialect,
        processed: Sequence[str] = (),
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.processors = {
            name: process
            for name in processed
            if (process := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        }
        self.sql = compiled.string
        positions = getattr(compiled, "positiontup", None)  # qmark (SQLite); psycopg: by name
        self.names: tuple[str, ...] | None = tuple(positions) if positions else None
        # values written into the statement (``column == 5``); ``bindparam(name)`` has none
        self.defaults = {
            name: value for name, value in compiled.params.items() if value is not None
        }
        self.dialect = dialect
        self.columns = list(getattr(statement, "exported_columns", ()))
        self.tuple = namedtuple("Row", [column.key for column in self.columns])  # type: ignore[misc]
        # A type's result processor may depend on the driver's type code (psycopg's numbers):
        # taken from the first result's description, the same for every later one.
        self.converters: list[Any] | None = None

    def parameters(self, values: dict[str, Any]) -> Any:
        values = {**self.defaults, **values} if self.defaults else values
        if self.processors:
            values = {**values, **{n: p(values[n]) for n, p in self.processors.items()}}
        return values if self.names is None else tuple(values[name] for name in self.names)

    def many(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[Any]:
        if (
            self.names is not None
            and tuple(columns) == self.names
            and not self.defaults
            and not self.processors
        ):
            return rows
        names = tuple(columns)
        return (self.parameters(dict(zip(names, row, strict=True))) for row in rows)

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
