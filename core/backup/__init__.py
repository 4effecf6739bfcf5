"""Backups that are safe while GridBoard runs, and restores that are all or nothing, on SQLite
(``sqlite``) and PostgreSQL (``postgresql``). See docs/operations.md#backups."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from core.backup.checks import BackupSummary, Defect, RestoreSummary
from core.backup.postgresql import backup_postgresql, restore_postgresql
from core.backup.sqlite import Progress, backup_sqlite, restore_sqlite
from core.errors import UnavailableDatabase

__all__ = [
    "BackupSummary",
    "Defect",
    "RestoreSummary",
    "backup_database",
    "backup_sqlite",
    "restore_database",
    "restore_sqlite",
]


def backup_database(
    *, url: str, destination: Path, force: bool = False, progress: Progress | None = None
) -> BackupSummary:
    """Back up the database at ``url`` to the file ``destination``, checked, atomically."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        return backup_postgresql(url=parsed, destination=destination, force=force)
    return backup_sqlite(
        database=_sqlite_path(parsed), destination=destination, force=force, progress=progress
    )


def restore_database(*, url: str, source: Path, force: bool = False) -> RestoreSummary:
    """Replace the database at ``url`` with the backup ``source``, then migrate it."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        return restore_postgresql(url=parsed, source=source, force=force)
    return restore_sqlite(source=source, database=_sqlite_path(parsed), force=force)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as error:
        raise UnavailableDatabase(
            "<unparseable URL>", f"not a valid database URL ({error})"
        ) from None


def _sqlite_path(url: URL) -> Path:
    if url.get_backend_name() != "sqlite":
        raise UnavailableDatabase(
            url.render_as_string(hide_password=True), "backups support SQLite and PostgreSQL only"
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise UnavailableDatabase(
            url.render_as_string(), "only a SQLite database in a file can be backed up"
        )
    return Path(url.database)
