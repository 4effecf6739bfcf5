"""SQLite backups with the online backup API, from one snapshot, and restores by one rename
of a checked, migrated copy. See docs/operations.md#backups."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from core.backup.checks import (
    SQLITE_HEADER,
    BackupSummary,
    Defect,
    RestoreSummary,
    check_backup_file,
    check_destination,
    check_folder,
    check_revision,
    remove_sidecars,
    row_counts,
    with_sidecars,
    written_or_removed,
)
from core.backup.errors import BackupRefusal, NotABackup, RestoreRefusal
from core.db import Database
from core.errors import UnavailableDatabase
from core.paths import put_in_place, special_file_kind, temporary_next_to

PAGES_PER_STEP = 4096
_IN_USE_TIMEOUT_S = 2.0

Progress = Callable[[float], None]


def backup_sqlite(
    *,
    database: Path,
    destination: Path,
    force: bool = False,
    pages_per_step: int = PAGES_PER_STEP,
    progress: Progress | None = None,
) -> BackupSummary:
    """Copy one consistent snapshot of ``database`` to ``destination``, checked, atomically.

    Refuses with ``BackupRefusal`` (nothing written) when the destination exists and ``force``
    is not set, when its folder is missing or not writable, when it is the database itself, or
    when the database is damaged or not GridBoard's. ``progress`` gets the fraction copied.
    """
    started = time.perf_counter()
    shown = str(destination)
    if not database.is_file():
        raise UnavailableDatabase(str(database), "there is no database file there")
    check_destination(destination, force=force, protected=with_sidecars(database))
    temporary = temporary_next_to(destination)
    with written_or_removed(temporary, lambda reason: BackupRefusal(shown, reason)):
        try:
            with (
                closing(_connect(database, mode="rw")) as source,
                closing(_connect(temporary, mode="rwc")) as copy,
            ):
                _copy_snapshot(source, copy, pages_per_step, progress or (lambda _f: None))
                revision, rows = inspect_sqlite(copy, require_known=False)
                _make_self_contained(copy)
        except Defect as problem:
            raise BackupRefusal(shown, f"the database {database} {problem.reason}") from None
        except sqlite3.Error as error:
            raise BackupRefusal(shown, f"SQLite: {error}") from None
        put_in_place(temporary, destination, lambda reason: BackupRefusal(shown, reason))
    return BackupSummary.of(destination, rows=rows, revision=revision, started=started)


def restore_sqlite(*, source: Path, database: Path, force: bool = False) -> RestoreSummary:
    """Replace ``database`` with the backup ``source``, migrated to this code's schema.

    Refuses with ``NotABackup`` when ``source`` is not a sound GridBoard SQLite backup of a
    schema this code knows, and with ``RestoreRefusal`` when the database holds rows and
    ``force`` is not set, or is open in another process (the app must be stopped). The database
    is replaced by one rename: it is the old one or the restored one, never a mixture.
    """
    started = time.perf_counter()
    target = str(database)
    check_backup_file(source, expected=SQLITE_HEADER)
    check_folder(database.parent, lambda reason: RestoreRefusal(target, reason))
    kind = special_file_kind(database)
    if kind:  # the swap would replace it with a regular file, --force or not
        raise RestoreRefusal(target, f"it is {kind}; point the database URL at the file itself")
    rows_there = _rows_in(database, force=force)
    if rows_there and not force:
        raise RestoreRefusal(target, f"it holds {rows_there:,} rows (--force replaces them)")
    temporary = temporary_next_to(database)
    with written_or_removed(temporary, lambda reason: RestoreRefusal(target, reason)):
        _copy_file(source, temporary)
        try:
            with closing(_connect(temporary, mode="rw")) as copy:
                backup_revision, _ = inspect_sqlite(copy, require_known=True)
        except Defect as problem:
            raise NotABackup(str(source), f"it {problem.reason}") from None
        except sqlite3.Error as error:
            raise NotABackup(str(source), f"SQLite cannot read it ({error})") from None
        restored = Database.from_url(f"sqlite:///{temporary}")
        try:
            restored.migrate()
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise NotABackup(
                str(source), f"its migration to this schema failed ({reason})"
            ) from None
        finally:
            restored.dispose()
        with closing(_connect(temporary, mode="rw")) as copy:
            revision, rows = inspect_sqlite(copy, require_known=True)
            _make_self_contained(copy)
        _release(database, force=force)
        put_in_place(temporary, database, lambda reason: RestoreRefusal(target, reason))
    return RestoreSummary.of(
        target, rows=rows, backup_revision=backup_revision, revision=revision, started=started
    )


def inspect_sqlite(
    connection: sqlite3.Connection, *, require_known: bool
) -> tuple[str, dict[str, int]]:
    """The Alembic revision and rows per table of a GridBoard SQLite database, checked.

    Raises ``Defect`` when the file is damaged (integrity or foreign keys), has no single
    Alembic revision, or (``require_known``) has one this code does not know.
    """
    try:
        problems = [str(row[0]) for row in connection.execute("PRAGMA integrity_check(5)")]
    except sqlite3.DatabaseError as error:
        raise Defect(f"is damaged: SQLite cannot read it ({error})") from None
    if problems != ["ok"]:
        raise Defect("is damaged: " + "; ".join(problems))
    broken = connection.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise Defect(f"is damaged: {len(broken)} rows of table {broken[0][0]} break a foreign key")
    tables = _tables(connection)
    if "alembic_version" not in tables:
        raise Defect("has no alembic_version table, so it is not a GridBoard database")
    revisions = [
        str(row[0]) for row in connection.execute("SELECT version_num FROM alembic_version")
    ]
    if len(revisions) != 1:
        raise Defect(f"has {len(revisions)} Alembic revisions instead of one")
    if require_known:
        check_revision(revisions[0])
    return revisions[0], row_counts(tables, _counter(connection))


def _copy_snapshot(
    source: sqlite3.Connection, copy: sqlite3.Connection, pages: int, progress: Progress
) -> None:
    """Copy ``source`` into ``copy`` from one snapshot, ``pages`` pages per step.

    In WAL mode the read transaction opened here keeps the snapshot across steps and blocks
    no writer. Otherwise (a file no GridBoard process has opened since a restore) SQLite
    restarts the copy whenever another connection writes, which is consistent too.
    """
    wal = str(source.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
    if wal:
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def step(_status: int, remaining: int, total: int) -> None:
        progress(1 - remaining / total if total else 1.0)

    try:
        source.backup(copy, pages=pages, progress=step)
    finally:
        if wal:
            source.execute("ROLLBACK")


def _make_self_contained(connection: sqlite3.Connection) -> None:
    """Rollback-journal mode: the file alone is the database (GridBoard turns WAL on again)."""
    mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    if str(mode).lower() != "delete":
        raise sqlite3.OperationalError(f"could not leave WAL mode (journal_mode is {mode})")


def _rows_in(database: Path, *, force: bool) -> int:
    """Rows in every table of the database about to be replaced (0 when there is none)."""
    target = str(database)
    if not database.exists() or (database.is_file() and database.stat().st_size == 0):
        return 0
    if not database.is_file():
        raise RestoreRefusal(target, "it is not a file")
    with database.open("rb") as file:
        is_sqlite = file.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    if not is_sqlite:
        if force:
            return 0
        raise RestoreRefusal(target, "it is not a SQLite database (--force replaces it)")
    try:
        with closing(_connect(database, mode="rw")) as connection:
            return sum(row_counts(_tables(connection), _counter(connection)).values())
    except sqlite3.DatabaseError as error:
        if force:
            return 0
        raise RestoreRefusal(
            target, f"SQLite cannot read it ({error}) (--force replaces it)"
        ) from None


def _release(database: Path, *, force: bool) -> None:
    """Make sure no one has ``database`` open and fold its ``-wal`` into it, so that no stale
    write-ahead log is left beside the restored file (SQLite would replay it into it).

    Leaving WAL mode needs every other connection closed, so it doubles as the check that the
    app is stopped. A damaged database (only replaced with ``force``) cannot be asked; its
    ``-wal`` and ``-shm`` files are removed with it.
    """
    in_use = RestoreRefusal(
        str(database),
        "it is in use: stop the app, the report worker and other gridboard commands first",
    )
    if database.exists():
        try:
            with closing(_connect(database, mode="rw", timeout=_IN_USE_TIMEOUT_S)) as connection:
                mode = str(connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0])
            if mode.lower() != "delete":
                raise in_use
        except sqlite3.OperationalError as error:
            if "locked" in str(error).lower() or "busy" in str(error).lower():
                raise in_use from None
            if not force:
                raise RestoreRefusal(str(database), f"SQLite: {error}") from None
        except sqlite3.DatabaseError as error:
            if not force:
                raise RestoreRefusal(str(database), f"SQLite: {error}") from None
    remove_sidecars(database, with_file=False)


def _copy_file(source: Path, destination: Path) -> None:
    """Copy a backup file, and the write-ahead log beside it if it has one (a database copied
    with ``cp`` while it ran); SQLite replays the log's committed transactions into the copy."""
    _copy_bytes(source, destination)
    log = Path(f"{source}-wal")
    if log.is_file() and log.stat().st_size:
        _copy_bytes(log, Path(f"{destination}-wal"))


def _copy_bytes(source: Path, destination: Path) -> None:
    with source.open("rb") as reader, destination.open("xb") as writer:
        while chunk := reader.read(1 << 20):
            writer.write(chunk)


def _connect(path: Path, *, mode: str, timeout: float = 10.0) -> sqlite3.Connection:
    """A plain connection; ``mode=rw`` never creates a missing file by accident."""
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)


def _tables(connection: sqlite3.Connection) -> list[str]:
    return [
        str(row[0])
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]


def _counter(connection: sqlite3.Connection) -> Callable[[str], int]:
    return lambda sql: int(connection.execute(sql).fetchone()[0])
