"""The one place that opens databases: engines, sessions and migrations; what runs below the
ORM is ``core.driver_statements``. See docs/architecture.md#who-opens-database-connections."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db_errors import database_failure
from core.errors import DatabaseFileChange, UnavailableDatabase

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_WRITE_OPTION = "gridboard_write"
_AT_ONCE_OPTION = "gridboard_at_once"  # SQLite: a write that takes the lock only if it is free
_MIGRATION_LOCK_ID = 0x6772_6964  # "grid"


SQLITE_FOLD = "gridboard_fold"


def _casefold(text: object) -> object:
    return text.casefold() if isinstance(text, str) else text


def create_db_engine(url: str, *, busy_timeout_ms: int = 10_000) -> Engine:
    """An engine for ``url`` with GridBoard's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        _tune_sqlite(engine, busy_timeout_ms)
        return engine
    # hide_parameters: an error's text never carries a statement's values (a password hash).
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    _tune_postgresql(engine, busy_timeout_ms)
    return engine


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()
        # SQLite's lower() folds ASCII only; searches for other letters fold with Python's.
        dbapi_connection.create_function(SQLITE_FOLD, 1, _casefold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if not options.get(_WRITE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
        elif options.get(_AT_ONCE_OPTION, False):
            # Not waiting for another writer: "database is locked" (BusyDatabase) at once.
            driver = connection.connection.driver_connection
            assert driver is not None
            # On the driver itself, as the pragmas: this runs once per single post, and
            # SQLAlchemy's execution would cost more than the statement (a refusal is then
            # the driver's own error, which ``database_failure`` reads as well).
            driver.execute("PRAGMA busy_timeout=0")
            try:
                driver.execute("BEGIN IMMEDIATE")
            finally:
                driver.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _tune_postgresql(engine: Engine, busy_timeout_ms: int) -> None:
    """Writers wait for a lock (a row, a table, the rollups' advisory lock) as long as a SQLite
    writer waits for the database, then fail with ``BusyDatabase`` instead of queueing
    forever behind a long import. Readers and migrations are not limited."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # No JIT compilation: a report's statement has a part per offset span (some 140 in a
        # century in Zurich), and compiling them cost about 4 of the 5 s a century's report
        # took at 1M measurements (bench/JOURNAL.md), for a statement that runs in 0.2 s.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION, False):
            # 0 means "no limit" to PostgreSQL but "do not wait" to SQLite: keep SQLite's.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(busy_timeout_ms))}")


class _SqliteFile:
    """The identity (device and inode) of a SQLite database file, taken when the first
    connection opens it. Open connections keep using the file they opened even after it is
    deleted or replaced, so their writes would report success into a file that is gone at the
    next start; a new connection would make an empty database at the path. Each session
    compares the identity first, and a write compares it again before it commits."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None
        event.listen(engine, "connect", self._remember)
        event.listen(engine, "do_connect", self._open_existing)

    def _stat(self) -> tuple[int, int] | None:
        try:
            found = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return found.st_dev, found.st_ino

    def _remember(self, _dbapi_connection: Any, _record: Any) -> None:
        if self.identity is None:
            self.identity = self._stat()

    def _open_existing(self, _dialect: Any, _record: Any, _cargs: Any, cparams: Any) -> Any:
        """Once the file is known, a new connection opens it only if it is still there, so a
        deleted database is never silently recreated empty."""
        if self.identity is None:
            return None  # the first connection may create the file
        self.check()
        uri = f"file:{quote(str(self.path))}?mode=rw"
        return sqlite3.connect(uri, uri=True, **cparams)

    def check(self) -> None:
        if self.identity is None:
            return
        now = self._stat()
        if now != self.identity:
            change = "deleted" if now is None else "replaced by another file"
            raise DatabaseFileChange(str(self.path), change)


def _sqlite_file(engine: Engine) -> _SqliteFile | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return _SqliteFile(engine, Path(database).absolute())


class Database:
    """An engine and the sessions made from it: one session per user action."""

    def __init__(self, engine: Engine, *, busy_timeout_ms: int = 10_000) -> None:
        self.engine = engine
        self.busy_timeout_ms = busy_timeout_ms
        self._file = _sqlite_file(engine)
        self._read_sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        self._at_once_sessions = sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True, _AT_ONCE_OPTION: True}),
            expire_on_commit=False,
        )

    @property
    def writes_at_once(self) -> bool:
        """Whether ``write_at_once`` is offered: on SQLite, where a short write is work in
        this process alone; PostgreSQL's statements wait for the network."""
        return self.engine.dialect.name == "sqlite"

    def check_file(self) -> None:
        """``DatabaseFileChange`` if the SQLite file was deleted or replaced since it was
        opened; nothing to check on PostgreSQL."""
        if self._file is not None:
            self._file.check()

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 10_000) -> Database:
        return cls(
            create_db_engine(url, busy_timeout_ms=busy_timeout_ms), busy_timeout_ms=busy_timeout_ms
        )

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; it is rolled back at the end. A driver error is a domain
        error without the statement's values (``database_failure``)."""
        self.check_file()
        try:
            with self._read_sessions() as session:
                yield session
        except Exception as error:
            mapped = database_failure(error, waited_ms=self.busy_timeout_ms)
            if mapped is None:
                raise
            raise mapped from None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session for one write action: committed if the block succeeds, else rolled back.

        A lock that another writer holds past the busy timeout is ``BusyDatabase``, a full disk
        ``FullDisk``, any other driver error ``DatabaseFailure``; either way the whole write was
        rolled back, and the error carries neither the statement nor its values (it is raised
        without the driver's error attached, whose text may quote a row, hash included). A
        SQLite file deleted or replaced meanwhile is ``DatabaseFileChange``, and nothing is
        committed.
        """
        with self._writing(self._write_sessions, waits_ms=self.busy_timeout_ms) as session:
            yield session

    @contextmanager
    def write_at_once(self) -> Iterator[Session]:
        """``write``, except that another writer's lock is not waited for: ``BusyDatabase``
        at the session's first statement, before anything is read or written. A caller that
        must not block (the API's event loop) tries this, then ``write`` in a thread. SQLite
        only (``writes_at_once``); once the lock is taken, a write in WAL mode waits for
        nothing (a commit may checkpoint the log: a few milliseconds, once in many writes)."""
        if not self.writes_at_once:
            raise RuntimeError("write_at_once is for SQLite; PostgreSQL waits on the network")
        with self._writing(self._at_once_sessions, waits_ms=0) as session:
            yield session

    @contextmanager
    def _writing(self, sessions: sessionmaker[Session], *, waits_ms: int) -> Iterator[Session]:
        self.check_file()
        try:
            with sessions() as session, session.begin():
                yield session
                self.check_file()  # still the file the write went into, just before commit
        except Exception as error:  # a driver's own error too: the bulk paths use the drivers
            mapped = database_failure(error, waited_ms=waits_ms)
            if mapped is None:
                raise
            raise mapped from None

    def migrate(self) -> None:
        migrate(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision, read from the file names (``0004_what.py`` is
    revision ``0004``; a test checks this against Alembic's own answer)."""
    versions = (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
    return max(path.name.split("_", 1)[0] for path in versions)


def _at_head(connection: Connection) -> bool:
    if not inspect(connection).has_table("alembic_version"):
        return False
    stored = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()
    return list(stored) == [head_revision()]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to call from several processes).

    A database already at the newest revision is recognised with one query, without importing
    Alembic (a tenth of a second or more that every command and app start would pay)."""
    with engine.connect() as connection:
        if _at_head(connection):
            return
        connection.rollback()  # end the check's transaction; the upgrade runs as before
        from alembic import command

        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_ID})")
            connection.commit()
        try:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK_ID})")
                connection.commit()


def open_database(url: str | None = None) -> Database:
    """Open the configured database (or ``url``) and apply pending migrations.

    A URL that is malformed or a server that cannot be reached is a ``UnavailableDatabase``
    naming the URL (without its password), not a driver traceback.
    """
    from core.config import get_settings

    settings = get_settings()
    target = url or settings.database_url
    shown = _hide_password(target)
    try:
        database = Database.from_url(target, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise UnavailableDatabase(shown, f"not a valid database URL ({error})") from None
    try:
        database.migrate()
    except (OperationalError, InterfaceError) as error:
        database.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise UnavailableDatabase(shown, reason) from None
    return database


def _hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
