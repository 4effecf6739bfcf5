"""What SQLite and PostgreSQL backups share: the summaries, the checks of files, folders and
schema revisions, row counts, and writing a file atomically. See docs/operations.md#backups."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

from core.backup.errors import BackupRefusal, NotABackup
from core.db import alembic_config
from core.paths import folder_problem, output_file_problem

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
# The files SQLite keeps beside a database while it is open (or was left open).
SIDECARS = ("-journal", "-wal", "-shm")


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """A finished backup: where, how big, what it holds, and how long it took."""

    path: Path
    size_bytes: int
    rows: dict[str, int]
    revision: str
    seconds: float

    @classmethod
    def of(
        cls, destination: Path, *, rows: dict[str, int], revision: str, started: float
    ) -> BackupSummary:
        """The summary of the backup just published at ``destination``, begun at ``started``
        (``time.perf_counter``)."""
        return cls(
            path=destination,
            size_bytes=destination.stat().st_size,
            rows=rows,
            revision=revision,
            seconds=time.perf_counter() - started,
        )


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    """A finished restore: what the database now holds and which migrations it went through."""

    target: str
    rows: dict[str, int]
    backup_revision: str
    revision: str
    seconds: float

    @classmethod
    def of(
        cls,
        target: str,
        *,
        rows: dict[str, int],
        backup_revision: str,
        revision: str,
        started: float,
    ) -> RestoreSummary:
        """The summary of the restore into ``target`` just finished, begun at ``started``
        (``time.perf_counter``)."""
        return cls(
            target=target,
            rows=rows,
            backup_revision=backup_revision,
            revision=revision,
            seconds=time.perf_counter() - started,
        )


class Defect(Exception):
    """Why a database cannot be a GridBoard backup; callers turn it into their error."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def row_counts(
    tables: Iterable[str], count: Callable[[str], int], *, schema: str = ""
) -> dict[str, int]:
    """Rows per table, Alembic's own table left out; ``count`` runs one ``SELECT count(*)``
    on the backend's connection and returns its number."""
    prefix = f'"{schema}".' if schema else ""
    return {
        table: count(f'SELECT count(*) FROM {prefix}"{table}"')
        for table in tables
        if table != "alembic_version"
    }


def check_revision(revision: str) -> None:
    """Refuse (``Defect``) a schema revision that this code's migrations do not know."""
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise Defect(
            f"is at migration {revision!r}, which this GridBoard does not know "
            f"(its newest is {scripts.get_current_head()!r}): it was made by a newer "
            "GridBoard; upgrade GridBoard first"
        )


def check_destination(destination: Path, *, force: bool, protected: Iterable[Path]) -> None:
    """Refuse (``BackupRefusal``) a destination that cannot or may not be written."""
    shown = str(destination)
    check_folder(destination.parent, lambda reason: BackupRefusal(shown, reason))
    if destination.is_dir():
        raise BackupRefusal(shown, "it is a folder; give the backup file's name")
    resolved = destination.resolve()
    if any(resolved == path.resolve() for path in protected):
        raise BackupRefusal(shown, "that is the database itself")
    problem = output_file_problem(destination)  # a FIFO, a device, a link: --force or not
    if problem:
        raise BackupRefusal(shown, f"{problem}; give a file's name")
    if destination.exists() and not force:
        raise BackupRefusal(shown, "the file already exists (--force replaces it)")


def check_folder(folder: Path, refuse: Callable[[str], Exception]) -> None:
    """Refuse (``refuse``'s error) a folder that is missing or not writable."""
    problem = folder_problem(folder)
    if problem:
        raise refuse(problem)


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


@contextmanager
def written_or_removed(temporary: Path, refuse: Callable[[str], Exception]) -> Iterator[None]:
    """The block writes ``temporary``; if it fails, nothing of it is left behind, and an OS
    error (disk full, no permission) becomes ``refuse``'s error with its reason."""
    try:
        yield
    except OSError as error:
        remove_sidecars(temporary, with_file=True)
        raise refuse(os_reason(error)) from None
    except BaseException:
        remove_sidecars(temporary, with_file=True)
        raise


def with_sidecars(path: Path) -> list[Path]:
    """``path`` and the SQLite files that may sit beside it."""
    return [path, *(Path(f"{path}{suffix}") for suffix in SIDECARS)]


def remove_sidecars(path: Path, *, with_file: bool) -> None:
    """Delete the SQLite files beside ``path`` (and ``path`` itself if ``with_file``)."""
    for file in with_sidecars(path)[0 if with_file else 1 :]:
        file.unlink(missing_ok=True)


def os_reason(error: OSError) -> str:
    """An operating-system error as a clause: what failed, on which file."""
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"
