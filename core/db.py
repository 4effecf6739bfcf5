"""The one place that opens databases: engines, sessions, migrations, and the raw bulk path.

SQLite is tuned for a dashboard that reads while it imports: WAL (readers never wait for the
writer), a busy timeout (writers queue instead of failing), foreign keys on, and writes that
start with ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade. PostgreSQL needs
no tuning here; migrations take an advisory lock so several replicas can start at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import DatabaseBusy, DatabaseUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_WRITE_OPTION = "gridboard_write"
_MIGRATION_LOCK_ID = 0x6772_6964  # "grid"


SQLITE_FOLD = "gridboard_fold"


def _casefold(text: object) -> object:
    return text.casefold() if isinstance(text, str) else text


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def create_db_engine(url: str, *, busy_timeout_ms: int = 10_000) -> Engine:
    """An engine for ``url`` with GridBoard's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _tune_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
        writes = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def driver_connection(session: Session) -> Any:
    """The DB-API connection (sqlite3 or psycopg) under the session's transaction, for the
    bulk paths that ``executemany`` or ``COPY`` below the ORM."""
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's connection is closed")
    return driver


class Database:
    """An engine and the sessions made from it: one session per user action."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 10_000) -> Database:
        return cls(create_db_engine(url, busy_timeout_ms=busy_timeout_ms))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; it is rolled back at the end."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session for one write action: committed if the block succeeds, else rolled back."""
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        except OperationalError as error:
            if is_sqlite(self.engine) and "locked" in str(error.orig).lower():
                raise DatabaseBusy() from error
            raise

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

    A URL that is malformed or a server that cannot be reached is a ``DatabaseUnavailable``
    naming the URL (without its password), not a driver traceback.
    """
    from core.config import get_settings

    settings = get_settings()
    target = url or settings.database_url
    shown = _hide_password(target)
    try:
        database = Database.from_url(target, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise DatabaseUnavailable(shown, f"not a valid database URL ({error})") from None
    try:
        database.migrate()
    except (OperationalError, InterfaceError) as error:
        database.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnavailable(shown, reason) from None
    return database


def _hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
