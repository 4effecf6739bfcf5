"""PostgreSQL backups with the server's own tools: ``pg_dump`` from an exported snapshot, and
``pg_restore`` piped into ``psql --single-transaction``. See docs/operations.md#backups."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError

from core.backup.checks import (
    PG_DUMP_HEADER,
    BackupSummary,
    Defect,
    RestoreSummary,
    check_backup_file,
    check_destination,
    check_revision,
    row_counts,
    written_or_removed,
)
from core.backup.errors import BackupRefusal, MissingTool, NotABackup, RestoreRefusal, ToolFailure
from core.db import Database
from core.errors import UnavailableDatabase
from core.paths import put_in_place, temporary_next_to

# Debian and Ubuntu install the client programs of each major version here.
CLIENT_ROOT = Path("/usr/lib/postgresql")
_VERSION_DATA = re.compile(r"^COPY public\.alembic_version .*?\n(.*?)\n\\\.$", re.M | re.S)


def find_tool(name: str, *, instead: str) -> str:
    """The path of a PostgreSQL client program: PATH first, then the newest Debian one."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        CLIENT_ROOT.glob(f"*/bin/{name}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", str(path))],
    )
    if candidates:
        return str(candidates[-1])
    raise MissingTool(name, instead)


def backup_postgresql(*, url: URL, destination: Path, force: bool) -> BackupSummary:
    """``pg_dump`` the database at ``url`` into ``destination`` (custom format), atomically."""
    started = time.perf_counter()
    shown = str(destination)
    check_destination(destination, force=force, protected=())
    libpq, environment = _libpq(url)
    pg_dump = find_tool(
        "pg_dump",
        instead=f"pg_dump --format=custom --file={shlex.quote(shown)} {shlex.quote(libpq)}",
    )
    engine = create_engine(url)
    temporary = temporary_next_to(destination)
    try:
        with written_or_removed(temporary, lambda reason: BackupRefusal(shown, reason)):
            with _connect(engine, url) as connection:
                snapshot_connection = connection.execution_options(
                    isolation_level="REPEATABLE READ"
                )
                with snapshot_connection.begin():
                    snapshot = str(
                        snapshot_connection.exec_driver_sql(
                            "SELECT pg_export_snapshot()"
                        ).scalar_one()
                    )
                    revision = _revision(snapshot_connection)
                    if revision is None:
                        raise BackupRefusal(
                            shown,
                            f"{_shown(url)} has no alembic_version table, so it is not a GridBoard "
                            "database",
                        )
                    rows = _row_counts(snapshot_connection)
                    _run(
                        [
                            pg_dump,
                            "--format=custom",
                            f"--snapshot={snapshot}",
                            f"--file={temporary}",
                            f"--dbname={libpq}",
                        ],
                        environment,
                    )
            _verify_archive(temporary, shown)
            put_in_place(temporary, destination, lambda reason: BackupRefusal(shown, reason))
    finally:
        engine.dispose()
    return BackupSummary.of(destination, rows=rows, revision=revision, started=started)


def restore_postgresql(*, url: URL, source: Path, force: bool) -> RestoreSummary:
    """Replace the contents of the database at ``url`` with the ``pg_dump`` file ``source``.

    The database must exist (``createdb``) and nothing else may be connected to it. Refuses
    with ``RestoreRefusal`` when it holds rows and ``force`` is not set.
    """
    started = time.perf_counter()
    target = _shown(url)
    check_backup_file(source, expected=PG_DUMP_HEADER)
    libpq, environment = _libpq(url)
    instead = (
        "pg_restore --no-owner --no-privileges --clean --if-exists --single-transaction "
        f"--exit-on-error --dbname={shlex.quote(libpq)} {shlex.quote(str(source))}"
    )
    pg_restore = find_tool("pg_restore", instead=instead)
    psql = find_tool("psql", instead=instead)
    backup_revision = _archive_revision(pg_restore, source)

    engine = create_engine(url)
    try:
        with _connect(engine, url) as connection:
            others = int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend'"
                    )
                ).scalar_one()
            )
            rows_there = sum(_row_counts(connection).values())
            tables = _tables(connection)
    finally:
        engine.dispose()
    if others:
        raise RestoreRefusal(
            target,
            f"{others} other connections use it: stop the app, the report worker and other "
            "gridboard commands first",
        )
    if rows_there and not force:
        raise RestoreRefusal(target, f"it holds {rows_there:,} rows (--force replaces them)")

    preamble = "SET lock_timeout = '10s';\n"
    if tables:
        listed = ", ".join(f'public."{name}"' for name in tables)
        preamble += f"DROP TABLE IF EXISTS {listed} CASCADE;\n"
    _pipe_into_psql(
        [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(source)],
        [
            psql,
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={libpq}",
            "--file=-",
        ],
        preamble,
        environment,
    )
    restored = Database(create_engine(url))
    try:
        restored.migrate()
        with restored.engine.connect() as connection:
            rows = _row_counts(connection)
            revision = _revision(connection) or ""
    finally:
        restored.dispose()
    return RestoreSummary.of(
        target, rows=rows, backup_revision=backup_revision, revision=revision, started=started
    )


def _archive_revision(pg_restore: str, source: Path) -> str:
    """The Alembic revision stored in a ``pg_dump`` archive (``NotABackup`` if none)."""
    try:
        listing = _run([pg_restore, "--list", str(source)], None)
    except ToolFailure as failure:
        raise NotABackup(
            str(source), f"pg_restore cannot read it ({failure.output.strip()})"
        ) from None
    if "TABLE DATA public alembic_version" not in listing:
        raise NotABackup(
            str(source), "it has no alembic_version table, so it is not a GridBoard backup"
        )
    script = _run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(source)], None
    )
    match = _VERSION_DATA.search(script)
    revisions = match.group(1).split() if match else []
    if len(revisions) != 1:
        raise NotABackup(str(source), f"it has {len(revisions)} Alembic revisions instead of one")
    try:
        check_revision(revisions[0])
    except Defect as problem:
        raise NotABackup(str(source), f"it {problem.reason}") from None
    return revisions[0]


def _verify_archive(path: Path, shown: str) -> None:
    """Check the new archive is one ``pg_restore`` can read and that it holds GridBoard's
    schema version (only the magic number when ``pg_restore`` is missing)."""
    with path.open("rb") as file:
        if file.read(len(PG_DUMP_HEADER)) != PG_DUMP_HEADER:
            raise BackupRefusal(shown, "pg_dump wrote something that is not a custom archive")
    try:
        pg_restore = find_tool("pg_restore", instead="")
    except MissingTool:
        return
    listing = _run([pg_restore, "--list", str(path)], None)
    if "TABLE DATA public alembic_version" not in listing:
        raise BackupRefusal(shown, "the archive pg_dump wrote has no alembic_version data")


def _pipe_into_psql(
    producer: list[str], consumer: list[str], preamble: str, environment: dict[str, str]
) -> None:
    """Run ``producer | consumer`` with ``preamble`` first on the consumer's input."""
    with tempfile.TemporaryFile() as producer_errors, tempfile.TemporaryFile() as consumer_errors:
        consumer_process = subprocess.Popen(
            consumer,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=consumer_errors,
            env=environment,
        )
        assert consumer_process.stdin is not None
        producer_process = subprocess.Popen(
            producer, stdout=subprocess.PIPE, stderr=producer_errors, env=environment
        )
        assert producer_process.stdout is not None
        try:
            consumer_process.stdin.write(preamble.encode())
            shutil.copyfileobj(producer_process.stdout, consumer_process.stdin)
        except BrokenPipeError:
            pass  # psql stopped at an error; its message says which
        finally:
            producer_process.stdout.close()
            producer_process.wait()
            with contextlib.suppress(BrokenPipeError):
                consumer_process.stdin.close()
            consumer_process.wait()
        for process, errors, name in (
            (consumer_process, consumer_errors, "psql"),
            (producer_process, producer_errors, "pg_restore"),
        ):
            if process.returncode:
                errors.seek(0)
                raise ToolFailure(name, process.returncode, errors.read().decode(errors="replace"))


def _run(command: list[str], environment: dict[str, str] | None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if result.returncode:
        raise ToolFailure(Path(command[0]).name, result.returncode, result.stderr)
    return result.stdout


def _connect(engine: Engine, url: URL) -> Connection:
    try:
        return engine.connect()
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise UnavailableDatabase(_shown(url), reason) from None


def _revision(connection: Connection) -> str | None:
    exists = connection.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
    if exists is None:
        return None
    return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def _tables(connection: Connection) -> list[str]:
    return [
        str(name)
        for name in connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        ).scalars()
    ]


def _row_counts(connection: Connection) -> dict[str, int]:
    return row_counts(
        _tables(connection),
        lambda sql: int(connection.execute(text(sql)).scalar_one()),
        schema="public",
    )


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq takes it, without the password (that goes in ``PGPASSWORD``, so it
    never shows in a process list), and the environment to run the client programs in."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)
