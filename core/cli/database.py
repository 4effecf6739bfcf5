"""The database commands: ``seed``, ``demo``, ``rebuild-aggregates``, ``backup``, ``restore``.
See docs/reference.md#the-command-line."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from core import logs
from core.cli.common import (
    DatabaseCommand,
    UrlCommand,
    positive_int,
    progress_printer,
    timestamp,
)
from core.counts import format_count
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from core.units import format_bytes


def _seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--components", type=positive_int, default=100, help="default: 100")
    parser.add_argument(
        "--per-component",
        type=positive_int,
        default=10_000,
        help="measurements per component, split over voltage, current and power (default 10000)",
    )
    parser.add_argument("--random-seed", type=int, default=42, help="same seed, same data")
    parser.add_argument(
        "--end",
        type=timestamp,
        default=None,
        help="last measurement time, ISO 8601 (default: the start of today, UTC)",
    )


def _seed(args: argparse.Namespace, database: Database) -> int:
    from core.seed import seed_grid

    with database.write() as session:
        summary = seed_grid(
            session=session,
            actor=SYSTEM_ACTOR,
            components=args.components,
            per_component=args.per_component,
            random_seed=args.random_seed,
            end=args.end,
            progress=progress_printer(sys.stderr, "seeding"),
        )
    print(
        f"seeded {format_count(summary.components, 'component')} in "
        f"{format_count(summary.substations, 'substation')} and "
        f"{format_count(summary.measurements, 'measurement')} into {database.url}"
    )
    return 0


SEED = DatabaseCommand(
    name="seed",
    help="Fill an empty database with a realistic synthetic grid and its measurements.",
    arguments=_seed_arguments,
    run=_seed,
)


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--components", type=positive_int, default=100)
    parser.add_argument("--per-component", type=positive_int, default=10_000)
    parser.add_argument("--random-seed", type=int, default=42)


def _demo(args: argparse.Namespace, database: Database) -> int:
    """Make the database a demo: seed it if it has no components, add demo users if none."""
    from core.access.users import count_users, create_user
    from core.grid.components import list_components
    from core.seed import seed_grid

    with database.read() as session:
        empty = list_components(session=session, limit=1).total == 0
        no_users = count_users(session=session) == 0
    if empty:
        print(
            f"creating the demo grid ({format_count(args.components, 'component')} x "
            f"{format_count(args.per_component, 'measurement')}); this takes a few seconds..."
        )
        with database.write() as session:
            seed_grid(
                session=session,
                actor=SYSTEM_ACTOR,
                components=args.components,
                per_component=args.per_component,
                random_seed=args.random_seed,
            )
    if no_users:
        credentials = {"manager": Role.MANAGER, "user": Role.USER}
        # Hex never spells "user" or "manager", which a password may not contain.
        passwords = {name: f"demo-{secrets.token_hex(8)}" for name in credentials}
        with database.write() as session:
            for name, role in credentials.items():
                create_user(
                    session=session,
                    actor=SYSTEM_ACTOR,
                    username=name,
                    password=passwords[name],
                    role=role,
                    display_name=f"Demo {name}",
                )
        print("\nDemo users (shown once; change with `gridboard set-password NAME`):")
        for name, password in passwords.items():
            print(f"  {name:8} {password}")
        print()
    return 0


DEMO = DatabaseCommand(
    name="demo",
    help="Prepare a demo database: seed it when empty and create users 'user' and 'manager'.",
    arguments=_demo_arguments,
    run=_demo,
)


def _rebuild_aggregates(args: argparse.Namespace, database: Database) -> int:
    from core.measurements import rollups

    with database.write() as session:
        count = rollups.rebuild(session, actor=SYSTEM_ACTOR)
    print(f"rebuilt {count} measurement rollup rows from raw measurements")
    return 0


REBUILD_AGGREGATES = DatabaseCommand(
    name="rebuild-aggregates",
    help="Recompute the measurement rollups that reports read from the raw measurements.",
    run=_rebuild_aggregates,
)


def _finish_copy(
    event: str, line: str, *, rows: dict[str, int], started: float, **fields: Any
) -> None:
    """Print a backup's or restore's summary ``line`` and its rows per table, and record the
    audit ``event`` with ``fields``."""
    print(line)
    for table, count in rows.items():
        print(f"  {table:24} {count:>12,} {'row' if count == 1 else 'rows'}")
    logs.record(event, user=SYSTEM_ACTOR.username, started=started, **fields, rows=rows)


def _backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("destination", type=Path, metavar="DEST")
    parser.add_argument("--force", action="store_true", help="replace DEST if it exists")


def _backup(args: argparse.Namespace, url: str) -> int:
    from core.backup import backup_database

    started = time.perf_counter()
    summary = backup_database(
        url=url,
        destination=args.destination,
        force=args.force,
        progress=progress_printer(sys.stderr, "copying"),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")  # end the progress line
    _finish_copy(
        "database.backup",
        f"backed up to {summary.path}: {format_bytes(summary.size_bytes)}, "
        f"schema {summary.revision}, in {summary.seconds:.2f} s",
        rows=summary.rows,
        started=started,
        path=str(summary.path),
        size_bytes=summary.size_bytes,
    )
    return 0


BACKUP = UrlCommand(
    name="backup",
    help="Back up the database into the file DEST while the app runs: one consistent snapshot, "
    "checked, written atomically (SQLite: online backup; PostgreSQL: pg_dump).",
    arguments=_backup_arguments,
    run=_backup,
)


def _restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, metavar="SRC")
    parser.add_argument("--force", action="store_true", help="replace a database that holds rows")


def _restore(args: argparse.Namespace, url: str) -> int:
    from core.backup import restore_database

    started = time.perf_counter()
    summary = restore_database(url=url, source=args.source, force=args.force)
    migrated = (
        f"migrated from schema {summary.backup_revision} to {summary.revision}"
        if summary.backup_revision != summary.revision
        else f"schema {summary.revision}"
    )
    _finish_copy(
        "database.restore",
        f"restored {args.source} into {summary.target} ({migrated}) in {summary.seconds:.2f} s",
        rows=summary.rows,
        started=started,
        source=str(args.source),
        revision=summary.revision,
    )
    return 0


RESTORE = UrlCommand(
    name="restore",
    help="Replace the database with the backup SRC, then migrate it. Stop the app and the "
    "worker first (SQLite: atomic file swap; PostgreSQL: pg_restore in one transaction).",
    arguments=_restore_arguments,
    run=_restore,
)
