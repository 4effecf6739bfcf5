"""Driver errors as domain errors: which failure a sqlite3 or psycopg error is, and whose
fault (the request's, or the server's). See docs/architecture.md#errors-and-logs."""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from core import logs
from core.errors import (
    BusyDatabase,
    ConflictingWrite,
    DatabaseFailure,
    FullDisk,
    GridBoardError,
    UnstorableValue,
    VanishedReference,
)

_PG_LOCK_NOT_AVAILABLE = "55P03"
_PG_DISK_FULL = "53100"
_PG_FOREIGN_KEY_VIOLATION = "23503"
_SQLITE_CONSTRAINT_FOREIGNKEY = 787


def domain_error(error: BaseException, *, waited_ms: int | None = None) -> GridBoardError | None:
    """The domain error that a driver error means (a lock not granted in time, a full disk),
    or ``None`` when it is not one of those; works on SQLAlchemy-wrapped and raw driver errors
    (the bulk paths call the drivers directly)."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg's errors carry PostgreSQL's code
    if sqlstate == _PG_LOCK_NOT_AVAILABLE:
        return BusyDatabase(waited_ms)
    if sqlstate == _PG_DISK_FULL:
        return FullDisk()
    if isinstance(orig, sqlite3.Error):
        code = (getattr(orig, "sqlite_errorcode", 0) or 0) & 0xFF
        message = str(orig).lower()
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in message:
            return FullDisk()
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in message:
            return BusyDatabase(waited_ms)
    return None


def _is_driver_error(error: BaseException) -> bool:
    return isinstance(error, DBAPIError | sqlite3.Error) or type(error).__module__.startswith(
        "psycopg"
    )


def _constraint(orig: BaseException) -> str | None:
    """The name of the constraint a driver error names, if any: PostgreSQL reports it apart
    from the message; SQLite's message names only the constraint or its columns."""
    diagnostics = getattr(orig, "diag", None)
    name = getattr(diagnostics, "constraint_name", None)
    if name:
        return str(name)
    message = str(orig)
    if isinstance(orig, sqlite3.Error) and "constraint failed: " in message:
        return message.split("constraint failed: ", 1)[1].splitlines()[0][:100]
    return None


def _is_vanished_reference(orig: BaseException) -> bool:
    """A foreign key that names a row no longer there (an insert or update; PostgreSQL's
    refused delete of a row still referenced is a conflict instead)."""
    if getattr(orig, "sqlstate", None) == _PG_FOREIGN_KEY_VIOLATION:
        primary = getattr(getattr(orig, "diag", None), "message_primary", None) or ""
        return primary.startswith("insert or update")
    if isinstance(orig, sqlite3.Error):
        extended = getattr(orig, "sqlite_errorcode", 0) or 0
        return extended == _SQLITE_CONSTRAINT_FOREIGNKEY or "FOREIGN KEY constraint" in str(orig)
    return False


def database_failure(
    error: BaseException, *, waited_ms: int | None = None
) -> GridBoardError | None:
    """The domain error for any error a database driver raised (``domain_error``'s, else a
    ``DatabaseFailure`` of its kind), or ``None`` for any other error. The driver's own text
    goes to the log only (masked like every record); the domain error carries no statement
    and no value."""
    mapped = domain_error(error, waited_ms=waited_ms)
    if mapped is not None or not _is_driver_error(error):
        return mapped
    orig: BaseException = error.orig if isinstance(error, DBAPIError) and error.orig else error
    code = getattr(orig, "sqlstate", None)
    constraint = _constraint(orig)
    failed: DatabaseFailure
    if _is_vanished_reference(orig):
        kind = "something it refers to no longer exists (deleted at the same moment)"
        failed = VanishedReference(kind, code=code, constraint=constraint)
    elif isinstance(error, IntegrityError) or type(orig).__name__ == "IntegrityError":
        kind = "the change clashes with stored data or a rule of the database"
        failed = ConflictingWrite(kind, code=code, constraint=constraint)
    elif isinstance(error, DataError) or type(orig).__name__ == "DataError":
        kind = "a value does not fit the database (too long, out of range or not storable)"
        failed = UnstorableValue(kind, code=code, constraint=constraint)
    else:
        failed = DatabaseFailure(
            "the database could not complete it", code=code, constraint=constraint
        )
    logs.record(
        "db.error",
        user=None,
        outcome="failed",
        level=logging.WARNING,
        error=type(orig).__name__,
        sqlstate=code,
        constraint=failed.constraint,
        driver_message=str(orig).strip().splitlines()[0][:300] if str(orig).strip() else "",
    )
    return failed
