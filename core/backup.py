"""Backups that are safe while GridBoard runs, and restores that are all or nothing.

SQLite: the online backup API copies the database page by page while holding one read
transaction on it. Every GridBoard connection runs in WAL mode, where a reader never blocks a
writer, and the held read transaction pins one snapshot for the whole copy: an import is one
transaction, so it is either committed before the copy starts (and entirely in the backup) or
not (and entirely absent), however long the copy takes and whenever the import commits. The
copy is written to a hidden file next to the destination, checked (integrity, foreign keys, an
Alembic revision), turned into a single self-contained file (rollback journal, no ``-wal``),
and only then renamed onto the destination; a backup that fails leaves nothing behind.

A restore checks the backup the same way in a copy next to the database, migrates that copy
if the backup is older than the code, and renames it over the database only when nothing else
has the database open. PostgreSQL goes through ``pg_dump``/``pg_restore``
(``core.backup_postgresql``).
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from core.db import Database, alembic_config
from core.errors import BackupRefused, DatabaseUnavailable, NotABackup, RestoreRefused
from core.paths import special_file_kind

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
PAGES_PER_STEP = 4096
_SIDECARS = ("-journal", "-wal", "-shm")
_IN_USE_TIMEOUT_S = 2.0

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """A finished backup: where, how big, what it holds, and how long it took."""

    path: Path
    size_bytes: int
    rows: dict[str, int]
    revision: str
    seconds: float


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    """A finished restore: what the database now holds and which migrations it went through."""

    target: str
    rows: dict[str, int]
    backup_revision: str
    revision: str
    seconds: float


class Unsound(Exception):
    """Why a database file cannot be a GridBoard backup; callers turn it into their error."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def backup_database(
    *, url: str, destination: Path, force: bool = False, progress: Progress | None = None
) -> BackupSummary:
    """Back up the database at ``url`` to the file ``destination`` (see the module doc)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        from core.backup_postgresql import backup_postgresql

        return backup_postgresql(url=parsed, destination=destination, force=force)
    return backup_sqlite(
        database=_sqlite_path(parsed), destination=destination, force=force, progress=progress
    )


def restore_database(*, url: str, source: Path, force: bool = False) -> RestoreSummary:
    """Replace the database at ``url`` with the backup ``source``, then migrate it."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        from core.backup_postgresql import restore_postgresql

        return restore_postgresql(url=parsed, source=source, force=force)
    return restore_sqlite(source=source, database=_sqlite_path(parsed), force=force)


def backup_sqlite(
    *,
    database: Path,
    destination: Path,
    force: bool = False,
    pages_per_step: int = PAGES_PER_STEP,
    progress: Progress | None = None,
) -> BackupSummary:
    """Copy one consistent snapshot of ``database`` to ``destination``, checked, atomically.

    Refuses with ``BackupRefused`` (nothing written) when the destination exists and ``force``
    is not set, when its folder is missing or not writable, when it is the database itself, or
    when the database is damaged or not GridBoard's. ``progress`` gets the fraction copied.
    """
    started = time.perf_counter()
    shown = str(destination)
    if not database.is_file():
        raise DatabaseUnavailable(str(database), "there is no database file there")
    check_destination(destination, force=force, protected=_with_sidecars(database))
    temporary = temporary_next_to(destination)
    with written_or_removed(temporary, lambda reason: BackupRefused(shown, reason)):
        try:
            with (
                closing(_connect(database, mode="rw")) as source,
                closing(_connect(temporary, mode="rwc")) as copy,
            ):
                _copy_snapshot(source, copy, pages_per_step, progress or (lambda _f: None))
                revision, rows = inspect_sqlite(copy, require_known=False)
                _make_self_contained(copy)
        except Unsound as problem:
            raise BackupRefused(shown, f"the database {database} {problem.reason}") from None
        except sqlite3.Error as error:
            raise BackupRefused(shown, f"SQLite: {error}") from None
        publish(temporary, destination)
    return BackupSummary(
        path=destination,
        size_bytes=destination.stat().st_size,
        rows=rows,
        revision=revision,
        seconds=time.perf_counter() - started,
    )


def restore_sqlite(*, source: Path, database: Path, force: bool = False) -> RestoreSummary:
    """Replace ``database`` with the backup ``source``, migrated to this code's schema.

    Refuses with ``NotABackup`` when ``source`` is not a sound GridBoard SQLite backup of a
    schema this code knows, and with ``RestoreRefused`` when the database holds rows and
    ``force`` is not set, or is open in another process (the app must be stopped). The database
    is replaced by one rename: it is the old one or the restored one, never a mixture.
    """
    started = time.perf_counter()
    target = str(database)
    check_backup_file(source, expected=SQLITE_HEADER)
    _check_folder(database.parent, lambda reason: RestoreRefused(target, reason))
    kind = special_file_kind(database)
    if kind:  # the swap would replace it with a regular file, --force or not
        raise RestoreRefused(target, f"it is {kind}; point the database URL at the file itself")
    rows_there = _rows_in(database, force=force)
    if rows_there and not force:
        raise RestoreRefused(target, f"it holds {rows_there:,} rows (--force replaces them)")
    temporary = temporary_next_to(database)
    with written_or_removed(temporary, lambda reason: RestoreRefused(target, reason)):
        _copy_file(source, temporary)
        try:
            with closing(_connect(temporary, mode="rw")) as copy:
                backup_revision, _ = inspect_sqlite(copy, require_known=True)
        except Unsound as problem:
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
        publish(temporary, database)
    return RestoreSummary(
        target=target,
        rows=rows,
        backup_revision=backup_revision,
        revision=revision,
        seconds=time.perf_counter() - started,
    )


def inspect_sqlite(
    connection: sqlite3.Connection, *, require_known: bool
) -> tuple[str, dict[str, int]]:
    """The Alembic revision and rows per table of a GridBoard SQLite database, checked.

    Raises ``Unsound`` when the file is damaged (integrity or foreign keys), has no single
    Alembic revision, or (``require_known``) has one this code does not know.
    """
    try:
        problems = [str(row[0]) for row in connection.execute("PRAGMA integrity_check(5)")]
    except sqlite3.DatabaseError as error:
        raise Unsound(f"is damaged: SQLite cannot read it ({error})") from None
    if problems != ["ok"]:
        raise Unsound("is damaged: " + "; ".join(problems))
    broken = connection.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise Unsound(f"is damaged: {len(broken)} rows of table {broken[0][0]} break a foreign key")
    tables = [
        str(row[0])
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    if "alembic_version" not in tables:
        raise Unsound("has no alembic_version table, so it is not a GridBoard database")
    revisions = [
        str(row[0]) for row in connection.execute("SELECT version_num FROM alembic_version")
    ]
    if len(revisions) != 1:
        raise Unsound(f"has {len(revisions)} Alembic revisions instead of one")
    if require_known:
        check_revision(revisions[0])
    rows = {
        table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        for table in tables
        if table != "alembic_version"
    }
    return revisions[0], rows


def check_revision(revision: str) -> None:
    """Refuse (``Unsound``) a schema revision that this code's migrations do not know."""
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise Unsound(
            f"is at migration {revision!r}, which this GridBoard does not know "
            f"(its newest is {scripts.get_current_head()!r}): it was made by a newer "
            "GridBoard; upgrade GridBoard first"
        )


def check_destination(destination: Path, *, force: bool, protected: Iterable[Path]) -> None:
    """Refuse (``BackupRefused``) a destination that cannot or may not be written."""
    shown = str(destination)
    _check_folder(destination.parent, lambda reason: BackupRefused(shown, reason))
    if destination.is_dir():
        raise BackupRefused(shown, "it is a folder; give the backup file's name")
    resolved = destination.resolve()
    if any(resolved == path.resolve() for path in protected):
        raise BackupRefused(shown, "that is the database itself")
    kind = special_file_kind(destination)
    if kind:  # the final rename would put a regular file in its place, --force or not
        raise BackupRefused(shown, f"it is {kind}, not a regular file; give a file's name")
    if destination.exists() and not force:
        raise BackupRefused(shown, "the file already exists (--force replaces it)")


def temporary_next_to(path: Path) -> Path:
    """A hidden file name in ``path``'s folder, so that the final rename is atomic."""
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.partial"


def publish(temporary: Path, destination: Path) -> None:
    """Make the finished ``temporary`` file the ``destination``, durably, in one rename."""
    _fsync(temporary)
    temporary.replace(destination)
    _fsync(destination.parent)


@contextmanager
def written_or_removed(temporary: Path, refuse: Callable[[str], Exception]) -> Iterator[None]:
    """The block writes ``temporary``; if it fails, nothing of it is left behind, and an OS
    error (disk full, no permission) becomes ``refuse``'s error with its reason."""
    try:
        yield
    except OSError as error:
        remove_with_sidecars(temporary)
        raise refuse(os_reason(error)) from None
    except BaseException:
        remove_with_sidecars(temporary)
        raise


def remove_with_sidecars(path: Path) -> None:
    for suffix in ("", *_SIDECARS):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _check_folder(folder: Path, refuse: Callable[[str], Exception]) -> None:
    if not folder.exists():
        raise refuse(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise refuse(f"{folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise refuse(f"the folder {folder} is not writable")


def check_backup_file(source: Path, *, expected: bytes) -> None:
    """Refuse (``NotABackup``) a file that is missing, empty, or of the other backend."""
    if not source.exists():
        raise NotABackup(str(source), "there is no such file")
    if not source.is_file():
        raise NotABackup(str(source), "it is not a file")
    with source.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if not header:
        raise NotABackup(str(source), "the file is empty")
    if header.startswith(expected):
        return
    if header.startswith(PG_DUMP_HEADER):
        raise NotABackup(
            str(source), "it is a PostgreSQL backup (pg_dump); restore it into PostgreSQL"
        )
    if header.startswith(SQLITE_HEADER):
        raise NotABackup(str(source), "it is a SQLite backup; restore it into SQLite")
    raise NotABackup(str(source), "it is not a SQLite database file")


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
        raise RestoreRefused(target, "it is not a file")
    with database.open("rb") as file:
        is_sqlite = file.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    if not is_sqlite:
        if force:
            return 0
        raise RestoreRefused(target, "it is not a SQLite database (--force replaces it)")
    try:
        with closing(_connect(database, mode="rw")) as connection:
            tables = [
                str(row[0])
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
                )
            ]
            return sum(
                int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
                for table in tables
            )
    except sqlite3.DatabaseError as error:
        if force:
            return 0
        raise RestoreRefused(
            target, f"SQLite cannot read it ({error}) (--force replaces it)"
        ) from None


def _release(database: Path, *, force: bool) -> None:
    """Make sure no one has ``database`` open and fold its ``-wal`` into it, so that no stale
    write-ahead log is left beside the restored file (SQLite would replay it into it).

    Leaving WAL mode needs every other connection closed, so it doubles as the check that the
    app is stopped. A damaged database (only replaced with ``force``) cannot be asked; its
    ``-wal`` and ``-shm`` files are removed with it.
    """
    in_use = RestoreRefused(
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
                raise RestoreRefused(str(database), f"SQLite: {error}") from None
        except sqlite3.DatabaseError as error:
            if not force:
                raise RestoreRefused(str(database), f"SQLite: {error}") from None
    remove_sidecars(database)


def remove_sidecars(database: Path) -> None:
    for suffix in _SIDECARS:
        Path(f"{database}{suffix}").unlink(missing_ok=True)


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


def _with_sidecars(database: Path) -> list[Path]:
    return [database, *(Path(f"{database}{suffix}") for suffix in _SIDECARS)]


def os_reason(error: OSError) -> str:
    """An operating-system error as a clause: what failed, on which file."""
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as error:
        raise DatabaseUnavailable(
            "<unparseable URL>", f"not a valid database URL ({error})"
        ) from None


def _sqlite_path(url: URL) -> Path:
    if url.get_backend_name() != "sqlite":
        raise DatabaseUnavailable(
            url.render_as_string(hide_password=True), "backups support SQLite and PostgreSQL only"
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise DatabaseUnavailable(
            url.render_as_string(), "only a SQLite database in a file can be backed up"
        )
    return Path(url.database)
