"""`gridboard backup` and `gridboard restore` as an operator uses them: a backup taken while an
import writes holds all of that import or none of it, restores are checked and atomic, and
every bad input is a message with nothing written."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import psycopg
import pytest
from alembic import command
from sqlalchemy import func, make_url, select

from core.backup import backup_sqlite
from core.backup.errors import MissingTool
from core.backup.postgresql import find_tool
from core.cli import main
from core.db import Database, alembic_config, head_revision
from core.domain import SYSTEM_ACTOR
from core.imports import import_measurements
from core.measurements import rollups
from core.models import Component, Measurement
from core.seed import seed_grid
from core.units import format_bytes
from tests.conftest import ADMIN_URL, _postgres_required
from tests.factories import MANAGER, make_component

HEAD = head_revision()  # the newest migration, whatever its number

BATCH_ROWS = 200_000
BATCH_START = datetime(2030, 1, 1, tzinfo=UTC)
BATCH_START_US = int(BATCH_START.timestamp() * 1_000_000)
COMPONENTS = 20
SEEDED = COMPONENTS * 300


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def seeded_database(path: Path) -> Database:
    """A GridBoard SQLite database with a small grid: 20 components, 6,000 measurements."""
    database = Database.from_url(sqlite_url(path))
    database.migrate()
    with database.write() as session:
        seed_grid(
            session=session,
            actor=SYSTEM_ACTOR,
            components=COMPONENTS,
            per_component=300,
            end=datetime(2024, 5, 8, tzinfo=UTC),
        )
    return database


def batch_file(path: Path, rows: int = BATCH_ROWS) -> Path:
    """``rows`` measurements of the seeded components, all in 2030 (after the seeded ones)."""
    per_component = rows // COMPONENTS
    minutes = pl.DataFrame({"minute": pl.int_range(0, per_component, eager=True)})
    components = pl.DataFrame({"component_id": pl.int_range(1, COMPONENTS + 1, eager=True)})
    components.join(minutes, how="cross").select(
        "component_id",
        (pl.lit(BATCH_START) + pl.duration(minutes=pl.col("minute")))
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        .alias("timestamp"),
        pl.lit("power").alias("measurement_type"),
        # MW any seeded component carries (a 0.25 MVA transformer too: plausibility)
        (0.01 + (pl.col("minute") % 97) * 0.004 + pl.col("component_id") * 0.0001)
        .round(4)
        .alias("value"),
    ).write_csv(path)
    return path


def printed_rows(out: str) -> dict[str, int]:
    """The rows per table that backup and restore print, one "  table  N rows" line each."""
    return {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in out.splitlines()
        if line.startswith("  ") and line.endswith(" rows")
    }


def batch_rows(database: Database) -> int:
    with database.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Measurement)
                .where(Measurement.timestamp_us >= BATCH_START_US)
            )
            or 0
        )


def restored_batch_rows(backup: Path, folder: Path) -> int:
    """Restore ``backup`` into a new database and check it as an operator would: intact,
    foreign keys kept, rollups equal to raw data, the seeded rows all there. Returns how many
    rows of the import batch it holds."""
    target = folder / f"restored-{uuid.uuid4().hex[:8]}.db"
    assert main(["--database-url", sqlite_url(target), "restore", str(backup)]) == 0
    with sqlite3.connect(target) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    database = Database.from_url(sqlite_url(target))
    try:
        with database.read() as session:
            assert rollups.differences(session).is_empty()
            total = session.scalar(select(func.count()).select_from(Measurement))
            assert session.scalar(select(func.count()).select_from(Component)) == COMPONENTS
        found = batch_rows(database)
        assert total == SEEDED + found
        return found
    finally:
        database.dispose()


class HeldImport:
    """An import of ``csv`` in a thread, held after writing all its rows and before its
    commit until ``commit()``; a failure in the thread is raised in the test."""

    def __init__(self, database: Database, csv: Path) -> None:
        self.written, self.may_commit = threading.Event(), threading.Event()
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(database, csv))

    def _hold(self, fraction: float) -> None:
        if fraction >= 1.0:
            self.written.set()
            assert self.may_commit.wait(timeout=600)

    def _run(self, database: Database, csv: Path) -> None:
        try:
            with database.write() as session:
                import_measurements(
                    session=session,
                    actor=MANAGER,
                    source=csv,
                    file_name=csv.name,
                    progress=self._hold,
                )
        except BaseException as error:  # handed to the test thread
            self.failures.append(error)
            self.written.set()

    def commit(self) -> None:
        self.may_commit.set()
        self.thread.join()
        if self.failures:
            raise self.failures[0]


@contextmanager
def import_held_before_commit(database: Database, csv: Path) -> Iterator[HeldImport]:
    held = HeldImport(database, csv)
    held.thread.start()
    try:
        assert held.written.wait(timeout=600)
        if held.failures:
            raise held.failures[0]
        yield held
    finally:
        held.may_commit.set()
        held.thread.join()
    if held.failures:
        raise held.failures[0]


def test_a_backup_during_an_import_holds_all_of_it_or_none(tmp_path, capsys):
    """The import writes 200,000 rows in one transaction. A backup taken while they are
    written but not committed has none of them; one whose copy is under way when the import
    commits has none either (it is the database as it was when the backup began); one taken
    after the commit has all of them. Each restores into a sound database."""
    source = tmp_path / "live.db"
    database = seeded_database(source)
    csv = batch_file(tmp_path / "batch.csv")
    with import_held_before_commit(database, csv) as held:
        uncommitted = tmp_path / "during-write.db"
        assert main(["--database-url", sqlite_url(source), "backup", str(uncommitted)]) == 0

        committed_mid_copy = tmp_path / "commit-mid-copy.db"
        steps: list[float] = []

        def commit_on_first_step(fraction: float) -> None:
            steps.append(fraction)
            if len(steps) == 1:
                held.commit()

        backup_sqlite(
            database=source,
            destination=committed_mid_copy,
            pages_per_step=8,
            progress=commit_on_first_step,
        )
        assert steps[0] < 1.0 and len(steps) > 1  # the commit really fell inside the copy
    assert batch_rows(database) == BATCH_ROWS
    after = tmp_path / "after-commit.db"
    assert main(["--database-url", sqlite_url(source), "backup", str(after)]) == 0
    assert printed_rows(capsys.readouterr().out)["measurements"] == SEEDED + BATCH_ROWS
    database.dispose()

    assert restored_batch_rows(uncommitted, tmp_path) == 0
    assert restored_batch_rows(committed_mid_copy, tmp_path) == 0
    assert restored_batch_rows(after, tmp_path) == BATCH_ROWS


def test_backups_taken_while_the_cli_imports_restore_consistently(tmp_path):
    """The realistic case: `gridboard import-measurements` runs in its own process while
    `gridboard backup` runs again and again; every backup holds the whole import or none."""
    source = tmp_path / "live.db"
    seeded_database(source).dispose()
    csv = batch_file(tmp_path / "batch.csv")
    gridboard = Path(sys.executable).with_name("gridboard")
    importer = subprocess.Popen(
        [gridboard, "--database-url", sqlite_url(source), "import-measurements", csv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    taken_during: list[Path] = []
    try:
        while importer.poll() is None and len(taken_during) < 30:
            backup = tmp_path / f"during-{len(taken_during)}.db"
            assert main(["--database-url", sqlite_url(source), "backup", str(backup)]) == 0
            taken_during.append(backup)
    finally:
        out, err = importer.communicate()
    assert importer.returncode == 0, err
    assert f"{BATCH_ROWS:,} measurements added" in out
    assert taken_during, "the import ended before the first backup began"
    after = tmp_path / "after.db"
    assert main(["--database-url", sqlite_url(source), "backup", str(after)]) == 0

    for backup in taken_during:
        assert restored_batch_rows(backup, tmp_path) in {0, BATCH_ROWS}
    assert restored_batch_rows(after, tmp_path) == BATCH_ROWS


@pytest.fixture
def small(tmp_path) -> Iterator[tuple[Path, Path]]:
    """A seeded SQLite database and a good backup of it."""
    source = tmp_path / "live.db"
    seeded_database(source).dispose()
    backup = tmp_path / "good.db"
    assert main(["--database-url", sqlite_url(source), "backup", str(backup)]) == 0
    yield source, backup


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def test_backup_output_names_size_rows_and_schema(small, capsys, tmp_path):
    source, _ = small
    backup = tmp_path / "named.db"
    assert main(["--database-url", sqlite_url(source), "backup", str(backup)]) == 0
    out = capsys.readouterr().out
    size = format_bytes(backup.stat().st_size)  # as the pages show sizes
    assert f"backed up to {backup}: {size}, schema {HEAD}" in out
    rows = printed_rows(out)
    assert rows["components"] == COMPONENTS and rows["measurements"] == SEEDED
    # one self-contained file: no write-ahead log beside it
    assert not Path(f"{backup}-wal").exists() and not Path(f"{backup}-journal").exists()


def test_backup_refuses_bad_destinations_and_writes_nothing(small, tmp_path, capsys):
    source, backup = small
    url = sqlite_url(source)
    before = files_in(tmp_path)

    assert main(["--database-url", url, "backup", str(tmp_path / "missing" / "b.db")]) == 1
    assert f"the folder {tmp_path / 'missing'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()

    assert main(["--database-url", url, "backup", str(backup)]) == 1
    err = capsys.readouterr().err
    assert "already exists (--force replaces it)" in err and "nothing was written" in err

    assert main(["--database-url", url, "backup", str(source), "--force"]) == 1
    assert "that is the database itself" in capsys.readouterr().err

    assert main(["--database-url", url, "backup", str(backup / "inside.db")]) == 1
    assert f"{backup} is not a folder" in capsys.readouterr().err

    missing_db = sqlite_url(tmp_path / "nothing-here.db")
    assert main(["--database-url", missing_db, "backup", str(tmp_path / "x.db")]) == 1
    assert "there is no database file there" in capsys.readouterr().err

    assert files_in(tmp_path) == before  # the refused attempts left no file, partial or not

    assert main(["--database-url", url, "backup", str(backup), "--force"]) == 0
    assert restored_batch_rows(backup, tmp_path) == 0


def test_backup_refuses_a_database_that_is_not_gridboards(tmp_path, capsys):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    assert main(["--database-url", sqlite_url(other), "backup", str(tmp_path / "b.db")]) == 1
    assert "no alembic_version table" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()


def unknown_schema_backup(backup: Path, folder: Path) -> Path:
    changed = folder / "from-the-future.db"
    changed.write_bytes(backup.read_bytes())
    with sqlite3.connect(changed) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    return changed


@pytest.mark.parametrize(
    ("make_source", "message"),
    [
        (lambda backup, folder: folder / "absent.db", "there is no such file"),
        (lambda backup, folder: folder, "it is not a file"),
        (
            lambda backup, folder: _write(folder / "notes.txt", b"not a database\n" * 50),
            "it is not a SQLite database file",
        ),
        (lambda backup, folder: _write(folder / "empty.db", b""), "the file is empty"),
        (
            lambda backup, folder: _write(
                folder / "truncated.db", backup.read_bytes()[: backup.stat().st_size // 2]
            ),
            "damaged",
        ),
        (lambda backup, folder: _foreign_sqlite(folder), "no alembic_version table"),
        (unknown_schema_backup, "'0099', which this GridBoard does not know"),
        (lambda backup, folder: _write(folder / "x.dump", b"PGDMP\x01\x0e"), "PostgreSQL backup"),
    ],
    ids=["missing", "folder", "text", "empty", "truncated", "not-gridboard", "newer", "pg-dump"],
)
def test_restore_refuses_what_is_not_a_good_backup(small, tmp_path, capsys, make_source, message):
    _, backup = small
    sources = tmp_path / "sources"
    sources.mkdir()
    source = make_source(backup, sources)
    targets = tmp_path / "targets"
    targets.mkdir()
    target = targets / "restored.db"
    assert main(["--database-url", sqlite_url(target), "restore", str(source)]) == 1
    err = capsys.readouterr().err
    assert message in err and "nothing was restored" in err and "Traceback" not in err
    assert list(targets.iterdir()) == []  # no database, no temporary file


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _foreign_sqlite(folder: Path) -> Path:
    path = folder / "someone-elses.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES ('hello')")
    return path


def test_restore_replaces_a_database_with_rows_only_when_forced(small, tmp_path, capsys):
    source, backup = small
    url = sqlite_url(source)
    database = Database.from_url(url)
    make_component(database, name="Added after the backup")
    database.dispose()

    assert main(["--database-url", url, "restore", str(backup)]) == 1
    err = capsys.readouterr().err
    assert f"cannot restore into {source}: it holds" in err and "(--force replaces them)" in err
    database = Database.from_url(url)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Component)) == COMPONENTS + 1
    database.dispose()

    assert main(["--database-url", url, "restore", str(backup), "--force"]) == 0
    out = capsys.readouterr().out
    assert f"restored {backup} into {source} (schema {HEAD})" in out
    database = Database.from_url(url)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Component)) == COMPONENTS
        assert rollups.differences(session).is_empty()
    database.dispose()
    assert not Path(f"{source}-wal").exists() or Path(f"{source}-wal").stat().st_size == 0


def test_restore_refuses_a_database_that_is_in_use(small, tmp_path, capsys):
    source, backup = small
    app = Database.from_url(sqlite_url(source))
    with app.read() as session:  # the app has read, so its pool holds a connection open
        session.scalar(select(func.count()).select_from(Component))
    try:
        assert main(["--database-url", sqlite_url(source), "restore", str(backup), "--force"]) == 1
        assert "it is in use: stop the app" in capsys.readouterr().err
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
        with app.read() as session:
            assert session.scalar(select(func.count()).select_from(Component)) == COMPONENTS
    finally:
        app.dispose()


def test_restore_migrates_an_older_backup(tmp_path, capsys):
    old = tmp_path / "old.db"
    database = Database.from_url(sqlite_url(old))
    with database.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0003")
        connection.commit()
    database.dispose()
    backup = tmp_path / "old-backup.db"
    # the backup keeps the schema as it was: backing up does not migrate
    assert main(["--database-url", sqlite_url(old), "backup", str(backup)]) == 0
    assert "schema 0003" in capsys.readouterr().out

    target = tmp_path / "new.db"
    assert main(["--database-url", sqlite_url(target), "restore", str(backup)]) == 0
    assert f"migrated from schema 0003 to {HEAD}" in capsys.readouterr().out
    with sqlite3.connect(target) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture
def postgres_databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases (source and target), dropped afterwards."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if _postgres_required():
            pytest.fail(f"PostgreSQL is required here but unreachable at {ADMIN_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {ADMIN_URL}")
    names = [f"gridboard_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    urls = [
        make_url(ADMIN_URL)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
        for name in names
    ]
    yield urls[0], urls[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_dump() -> str:
    """The pg_dump program; without PostgreSQL's client programs the round trips cannot run
    (the guidance test below covers that case), which fails where PostgreSQL is required."""
    try:
        return find_tool("pg_dump", instead="")
    except MissingTool:
        if _postgres_required():
            pytest.fail("PostgreSQL is required here but pg_dump is not installed")
        pytest.skip("pg_dump is not installed")


def _pg_rows(url: str) -> dict[str, int]:
    database = Database.from_url(url)
    try:
        with database.engine.connect() as connection:
            tables = ("components", "measurements", "measurement_rollups", "users", "reports")
            return {
                table: int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
                for table in tables
            }
    finally:
        database.dispose()


def test_postgresql_backup_and_restore_round_trip(postgres_databases, pg_dump, tmp_path, capsys):
    source_url, target_url = postgres_databases
    # the target is still an empty database, not GridBoard's: nothing to back up, and a
    # pg_dump of it is not a GridBoard backup
    refused = tmp_path / "empty.dump"
    assert main(["--database-url", target_url, "backup", str(refused)]) == 1
    assert "has no alembic_version table" in capsys.readouterr().err
    assert not refused.exists()
    foreign = tmp_path / "foreign.dump"
    libpq = make_url(target_url).set(drivername="postgresql").render_as_string(False)
    subprocess.run([pg_dump, "--format=custom", f"--file={foreign}", libpq], check=True)
    assert main(["--database-url", target_url, "restore", str(foreign)]) == 1
    assert "foreign.dump is not a GridBoard backup" in capsys.readouterr().err

    args = ["--database-url", source_url]
    assert main([*args, "seed", "--components", "6", "--per-component", "300"]) == 0
    backup = tmp_path / "grid.dump"
    assert main([*args, "backup", str(backup)]) == 0
    out = capsys.readouterr().out
    assert f"backed up to {backup}:" in out and f"schema {HEAD}" in out
    assert backup.read_bytes().startswith(b"PGDMP")
    rows = _pg_rows(source_url)
    assert rows["measurements"] == 1800 and rows["measurement_rollups"] > 0

    # a SQLite file is refused before anything touches the target
    sqlite_file = tmp_path / "x.db"
    seeded_database(sqlite_file).dispose()
    assert main(["--database-url", target_url, "restore", str(sqlite_file)]) == 1
    assert "it is a SQLite backup" in capsys.readouterr().err

    assert main(["--database-url", target_url, "restore", str(backup)]) == 0
    assert _pg_rows(target_url) == rows
    restored = Database.from_url(target_url)
    try:
        with restored.read() as session:
            assert rollups.differences(session).is_empty()
        # sequences came along: a new component gets a fresh id, not a collision
        added = make_component(restored, name="After restore")
        assert added.id > 6
    finally:
        restored.dispose()

    assert main(["--database-url", target_url, "restore", str(backup)]) == 1
    assert "(--force replaces them)" in capsys.readouterr().err
    assert _pg_rows(target_url)["components"] == 7
    with psycopg.connect(libpq):
        assert main(["--database-url", target_url, "restore", str(backup), "--force"]) == 1
        assert "1 other connections use it: stop the app" in capsys.readouterr().err
    assert _pg_rows(target_url)["components"] == 7
    assert main(["--database-url", target_url, "restore", str(backup), "--force"]) == 0
    assert _pg_rows(target_url) == rows


def test_postgresql_backup_during_an_import_holds_none_of_it(postgres_databases, pg_dump, tmp_path):
    """pg_dump runs on the snapshot GridBoard exports: an import that has written its rows but
    not committed is not in the backup; after the commit all of it is."""
    source_url, target_url = postgres_databases
    assert (
        main(
            [
                "--database-url",
                source_url,
                "seed",
                "--components",
                str(COMPONENTS),
                "--per-component",
                "300",
                "--end",
                "2024-05-08T00:00:00Z",
            ]
        )
        == 0
    )
    rows = 40_000
    csv = batch_file(tmp_path / "batch.csv", rows)
    database = Database.from_url(source_url)
    with import_held_before_commit(database, csv):
        during = tmp_path / "during.dump"
        assert main(["--database-url", source_url, "backup", str(during)]) == 0
    after = tmp_path / "after.dump"
    assert main(["--database-url", source_url, "backup", str(after)]) == 0
    database.dispose()

    for backup, expected, force in ((during, 0, []), (after, rows, ["--force"])):
        assert main(["--database-url", target_url, "restore", str(backup), *force]) == 0
        restored = Database.from_url(target_url)
        try:
            assert batch_rows(restored) == expected
            with restored.read() as session:
                assert rollups.differences(session).is_empty()
        finally:
            restored.dispose()


def test_postgresql_without_client_programs_says_what_to_run(
    postgres_databases, tmp_path, monkeypatch, capsys
):
    import core.backup.postgresql

    source_url, _ = postgres_databases
    assert main(["--database-url", source_url, "seed", "--components", "2"]) == 0
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(core.backup.postgresql, "CLIENT_ROOT", tmp_path / "no-postgresql")
    backup = tmp_path / "grid.dump"
    assert main(["--database-url", source_url, "backup", str(backup)]) == 1
    err = capsys.readouterr().err
    assert "pg_dump was not found" in err
    assert f"pg_dump --format=custom --file={backup}" in err
    assert "postgres@127.0.0.1" in err
    assert not backup.exists() and list(tmp_path.glob(".*partial")) == []

    backup.write_bytes(b"PGDMP\x01\x0e\x00")
    assert main(["--database-url", source_url, "restore", str(backup), "--force"]) == 1
    err = capsys.readouterr().err
    assert "pg_restore was not found" in err
    assert "pg_restore --no-owner --no-privileges --clean --if-exists --single-transaction" in err


def test_restore_force_replaces_a_damaged_database_and_its_stale_log(small, tmp_path, capsys):
    """The reason to restore is often that the database is broken: --force replaces it, and
    the old database's -wal/-shm files go with it (SQLite would replay them into the new)."""
    source, backup = small
    broken = tmp_path / "broken.db"
    damaged = source.read_bytes()[: source.stat().st_size // 3]
    broken.write_bytes(damaged)
    Path(f"{broken}-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(60))
    url = sqlite_url(broken)

    assert main(["--database-url", url, "restore", str(backup)]) == 1
    assert "(--force replaces it)" in capsys.readouterr().err
    assert broken.read_bytes() == damaged

    assert main(["--database-url", url, "restore", str(backup), "--force"]) == 0
    assert not Path(f"{broken}-wal").exists() and not Path(f"{broken}-shm").exists()
    assert restored_batch_rows(broken, tmp_path) == 0


def _special_destinations(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, a symbolic link to the null device and one to a folder: each must stay as it
    is. (The null device itself is never a destination here: the link is.)"""
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    null_link = tmp_path / "null.db"
    null_link.symlink_to(os.devnull)
    folder_link = tmp_path / "folder.db"
    folder_link.symlink_to(tmp_path)
    return {"named pipe (FIFO)": fifo, "symbolic link": null_link, "folder": folder_link}


def _unchanged(destinations: dict[str, Path]) -> None:
    assert stat.S_ISFIFO(destinations["named pipe (FIFO)"].lstat().st_mode)
    assert str(destinations["symbolic link"].readlink()) == os.devnull
    assert destinations["folder"].is_symlink()


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "forced"])
def test_backup_refuses_a_destination_that_is_not_a_regular_file(small, tmp_path, capsys, force):
    source, _ = small
    destinations = _special_destinations(tmp_path)
    for kind, destination in destinations.items():
        code = main(["--database-url", sqlite_url(source), "backup", str(destination), *force])
        err = capsys.readouterr().err
        assert code == 1, kind
        assert kind in err and "nothing was written" in err, err
    _unchanged(destinations)
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]


def test_postgresql_backup_refuses_a_destination_that_is_not_a_regular_file(
    postgres_databases, tmp_path, capsys
):
    source_url, _ = postgres_databases
    destinations = _special_destinations(tmp_path)
    for kind, destination in destinations.items():
        code = main(["--database-url", source_url, "backup", str(destination), "--force"])
        err = capsys.readouterr().err
        assert code == 1 and kind in err, err
    _unchanged(destinations)


def test_restore_refuses_a_database_path_that_is_a_symbolic_link(small, tmp_path, capsys):
    source, backup = small
    link = tmp_path / "linked.db"
    link.symlink_to(source)
    code = main(["--database-url", sqlite_url(link), "restore", str(backup), "--force"])
    assert code == 1 and "symbolic link" in capsys.readouterr().err
    assert link.is_symlink() and link.readlink() == source
