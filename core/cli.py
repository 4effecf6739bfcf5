"""The ``gridboard`` command: what is done without a browser.

Every command opens the database from ``--database-url`` or ``GRIDBOARD_DATABASE_URL`` and
applies pending migrations first, except ``backup`` and ``restore``, which must find the
database as it is (a backup taken before an upgrade must not be migrated already). The CLI
acts as the system manager ``system:cli``. Bad input ends with a message on stderr and a
non-zero exit status, never a traceback. Structured logs (``core.logs``) go to stderr, beside
the command's answer on stdout; the worker's to stdout.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from core import logs
from core.config import get_settings
from core.db import Database, open_database
from core.domain import SYSTEM_ACTOR, ComponentType, MeasurementType, Role
from core.errors import GridBoardError, ImportRejected, InvalidInput, UnreadableFile
from core.reports import LEASE_SECONDS, STOP_GRACE_SECONDS
from core.timestamps import BadTimestamp, parse_timestamp
from core.units import format_bytes

EXIT_REFUSED = 1
EXIT_USAGE = 2

URL_HELP = "SQLAlchemy database URL (default: GRIDBOARD_DATABASE_URL, else data/gridboard.db)"

Command = Callable[[argparse.Namespace, Database], int]
UrlCommand = Callable[[argparse.Namespace, str], int]


def _timestamp(text: str) -> datetime:
    try:
        return parse_timestamp(text)
    except BadTimestamp as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _non_negative_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not number >= 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return number


def _positive_float(text: str) -> float:
    number = _non_negative_float(text)
    if number == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def _port(text: str) -> int:
    number = _positive_int(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number up to 65535, got {number}")
    return number


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def _output_folder(text: str) -> Path:
    """``--out``: a folder the report's CSV files can be written into, checked before the
    report is computed (and stored), so a bad path costs nothing."""
    from core.paths import output_folder_problem
    from core.reports.kpis import TABLES

    folder = Path(text)
    problem = output_folder_problem(folder, [f"{name}.csv" for name in TABLES])
    if problem:
        raise argparse.ArgumentTypeError(f"cannot write the CSV files into {text}: {problem}")
    return folder


def _progress_printer(stream: TextIO, label: str) -> Callable[[float], None]:
    last = [-1]

    def report(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent // 10 != last[0] // 10 and stream.isatty():
            stream.write(f"\r{label}: {percent:3d}%")
            stream.flush()
        last[0] = percent

    return report


def cmd_seed(args: argparse.Namespace, database: Database) -> int:
    from core.seed import seed_grid

    with database.write() as session:
        summary = seed_grid(
            session=session,
            actor=SYSTEM_ACTOR,
            components=args.components,
            per_component=args.per_component,
            random_seed=args.random_seed,
            end=args.end,
            progress=_progress_printer(sys.stderr, "seeding"),
        )
    print(
        f"seeded {summary.components} components in {summary.substations} substations and "
        f"{summary.measurements} measurements into {database.url}"
    )
    return 0


def _import(args: argparse.Namespace, database: Database, *, what: str) -> int:
    from core.imports import import_components, import_measurements

    path: Path = args.file
    with database.write() as session:
        if what == "components":
            summary = import_components(
                session=session,
                actor=SYSTEM_ACTOR,
                source=path,
                file_name=path.name,
                overwrite=args.overwrite,
            )
        else:
            summary = import_measurements(
                session=session,
                actor=SYSTEM_ACTOR,
                source=path,
                file_name=path.name,
                overwrite=args.overwrite,
                progress=_progress_printer(sys.stderr, "importing"),
            )
    existing = (
        f"{summary.overwritten} overwritten" if args.overwrite else f"{summary.skipped} skipped"
    )
    print(
        f"{path.name}: {summary.rows} rows, {summary.inserted} {what} added, {existing} "
        "(already in the database)"
    )
    return 0


def cmd_import_components(args: argparse.Namespace, database: Database) -> int:
    return _import(args, database, what="components")


def cmd_import_measurements(args: argparse.Namespace, database: Database) -> int:
    return _import(args, database, what="measurements")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput.single("password", "give it on a terminal or with --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput.single("password", "the two entries differ")
    return first


def cmd_create_user(args: argparse.Namespace, database: Database) -> int:
    from core.users import create_user

    password = _read_password(args)
    with database.write() as session:
        user = create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            username=args.username,
            password=password,
            role=args.role,
            display_name=args.display_name or "",
        )
    print(f"created {user.role.value} {user.username}")
    return 0


def cmd_set_password(args: argparse.Namespace, database: Database) -> int:
    from core.users import set_password

    password = _read_password(args)
    with database.write() as session:
        set_password(session=session, actor=SYSTEM_ACTOR, username=args.username, password=password)
    print(f"password of {args.username} changed")
    return 0


def cmd_demo(args: argparse.Namespace, database: Database) -> int:
    """Make the database a demo: seed it if it has no components, add demo users if none."""
    from core.components import list_components
    from core.seed import seed_grid
    from core.users import count_users, create_user

    with database.read() as session:
        empty = list_components(session=session, limit=1).total == 0
        no_users = count_users(session=session) == 0
    if empty:
        print(
            f"creating the demo grid ({args.components} components x {args.per_component} "
            "measurements); this takes a few seconds..."
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


def cmd_report(args: argparse.Namespace, database: Database) -> int:
    from core.reports.export import table_csv
    from core.reports.jobs import ReportStatus, get_report_tables, marked_tables, run_report_now

    out: Path = args.out  # checked by _output_folder before anything was computed
    record = run_report_now(
        database, actor=SYSTEM_ACTOR, start=args.start, end=args.end, time_zone=args.tz
    )
    if record.status is not ReportStatus.COMPLETED:
        sys.stderr.write(f"error: report {record.id} {record.status.value}: {record.error}\n")
        return EXIT_REFUSED
    with database.read() as session:
        tables = get_report_tables(session=session, report_id=record.id)
    tables = marked_tables(record, tables)  # as the report page shows them
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            (out / f"{name}.csv").write_bytes(table_csv(frame))
    except OSError as error:  # the disk filled, or the folder changed since it was checked
        sys.stderr.write(
            f"error: report {record.id} is stored, but writing its CSV files into {out} "
            f"failed: {error.strerror}; download them from the app\n"
        )
        return EXIT_REFUSED
    print(f"report {record.id} completed: {len(tables)} CSV files in {out}")
    return 0


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    return "parquet" if str(args.out).lower().endswith(".parquet") else "csv"


def _write_out(out: str, data: bytes) -> None:
    """``data`` to the file ``out`` (written whole, then renamed into place), or to stdout
    for ``-``."""
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(out)
    if path.is_dir():
        raise InvalidInput.single("OUT", f"{path} is a folder; name a file, or - for stdout")
    if not path.parent.is_dir():
        raise InvalidInput.single("OUT", f"the folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def cmd_export_components(args: argparse.Namespace, database: Database) -> int:
    from core.exports import ExportFormat, components_frame, frame_bytes

    with database.read() as session:
        frame = components_frame(
            session=session,
            search=args.search,
            component_types=args.type or (),
            substations=args.substation or (),
        )
    _write_out(args.out, frame_bytes(frame, ExportFormat(_export_format(args))))
    if args.out != "-":
        print(f"{frame.height} components written to {args.out}")
    return 0


def cmd_export_measurements(args: argparse.Namespace, database: Database) -> int:
    from core.components import find_component
    from core.exports import ExportFormat, frame_bytes, measurements_frame

    with database.read() as session:
        if args.component_id is not None:
            component_id = args.component_id
        elif args.name and args.substation:
            found = find_component(session=session, name=args.name, substation=args.substation)
            component_id = found.id
        else:
            raise InvalidInput.single(
                "component", "give --component-id, or --name and --substation"
            )
        frame = measurements_frame(
            session=session,
            component_id=component_id,
            measurement_types=args.type or (),
            start=args.start,
            end=args.end,
        )
    _write_out(args.out, frame_bytes(frame, ExportFormat(_export_format(args))))
    if args.out != "-":
        print(f"{frame.height} measurements written to {args.out}")
    return 0


def cmd_worker(args: argparse.Namespace, database: Database) -> int:
    """Run queued reports until SIGTERM/SIGINT: the current report is finished within
    ``--stop-grace-seconds``, else handed back to the queue for another runner."""
    import logging
    import signal

    from core.reports.jobs import ReportRunner

    runner = ReportRunner(
        database,
        poll_seconds=args.poll_seconds,
        lease_seconds=args.lease_seconds,
        stop_grace_seconds=args.stop_grace_seconds,
    )

    def request_stop(signum: int, _frame: object) -> None:
        logging.info("signal %s: stopping after the current report", signum)
        runner.request_stop()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        logging.info("worker %s waiting for reports on %s", runner.worker_id, database.url)
        runner.run_forever(until_idle=args.once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logging.info("worker %s stopped", runner.worker_id)
    return 0


def cmd_api(args: argparse.Namespace, database: Database) -> int:
    """Serve the HTTP API until SIGTERM/SIGINT; each worker process opens the same database
    (already migrated here) and runs queued reports unless GRIDBOARD_APP_RUNS_REPORTS=false."""
    import logging
    import signal

    import uvicorn

    url = database.engine.url.render_as_string(hide_password=False)
    database.dispose()
    os.environ["GRIDBOARD_DATABASE_URL"] = url  # the worker processes read their settings anew
    get_settings.cache_clear()
    shown = "localhost" if args.host in ("0.0.0.0", "127.0.0.1", "::") else args.host  # noqa: S104
    logging.info("GridBoard API on http://%s:%s/docs", shown, args.port)
    print(f"GridBoard API: http://{shown}:{args.port}/docs", flush=True)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
    # handler it found: this one, so a requested stop ends with status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: logging.info("signal %s: stopped", signum))
    uvicorn.run(
        "api.app:serve_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,  # GridBoard's own logging (core.logs), configured already
        access_log=False,  # every write and sign-in has its audit record
        proxy_headers=True,
    )
    return 0


def cmd_create_token(args: argparse.Namespace, database: Database) -> int:
    from core.api_tokens import create_api_token

    with database.write() as session:
        made = create_api_token(
            session=session,
            actor=SYSTEM_ACTOR,
            name=args.name,
            scope=args.scope,
            expires_days=args.expires,
        )
    expires = (
        f"until {made.record.expires_at:%Y-%m-%d %H:%M} UTC"
        if made.record.expires_at
        else ("without expiry")
    )
    print(
        f"created API token {made.record.id} {made.record.name!r} ({made.record.scope.value}, "
        f"{expires}). It is shown only now; keep it secret:"
    )
    print(made.secret)
    return 0


def cmd_list_tokens(args: argparse.Namespace, database: Database) -> int:
    from core.api_tokens import list_api_tokens
    from core.models import utc_now

    with database.read() as session:
        tokens = list_api_tokens(session=session)
    if not tokens:
        print("no API tokens (make one with gridboard create-token NAME --scope read|write)")
        return 0
    moment = utc_now()

    def when(value: datetime | None) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    print(
        f"{'id':>4}  {'name':24} {'scope':5}  {'state':7}  {'created':16}  "
        f"{'expires':16}  last used"
    )
    for token in tokens:
        print(
            f"{token.id:>4}  {token.name[:24]:24} {token.scope.value:5}  {token.state(moment):7}  "
            f"{when(token.created_at):16}  {when(token.expires_at):16}  {when(token.last_used_at)}"
        )
    return 0


def cmd_revoke_token(args: argparse.Namespace, database: Database) -> int:
    from core.api_tokens import revoke_api_token

    with database.write() as session:
        token = revoke_api_token(session=session, actor=SYSTEM_ACTOR, token_id=args.token_id)
    print(f"API token {token.id} {token.name!r} is revoked")
    return 0


def cmd_rebuild_aggregates(args: argparse.Namespace, database: Database) -> int:
    from core import rollups

    with database.write() as session:
        count = rollups.rebuild(session, actor=SYSTEM_ACTOR)
    print(f"rebuilt {count} measurement rollup rows from raw measurements")
    return 0


def _print_rows(rows: dict[str, int]) -> None:
    for table, count in rows.items():
        print(f"  {table:24} {count:>12,} rows")


def cmd_backup(args: argparse.Namespace, url: str) -> int:
    import time

    from core.backup import backup_database

    started = time.perf_counter()
    summary = backup_database(
        url=url,
        destination=args.destination,
        force=args.force,
        progress=_progress_printer(sys.stderr, "copying"),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")  # end the progress line
    print(
        f"backed up to {summary.path}: {format_bytes(summary.size_bytes)}, "
        f"schema {summary.revision}, in {summary.seconds:.2f} s"
    )
    _print_rows(summary.rows)
    logs.record(
        "database.backup",
        user=SYSTEM_ACTOR.username,
        started=started,
        path=str(summary.path),
        size_bytes=summary.size_bytes,
        rows=summary.rows,
    )
    return 0


def cmd_restore(args: argparse.Namespace, url: str) -> int:
    import time

    from core.backup import restore_database

    started = time.perf_counter()
    summary = restore_database(url=url, source=args.source, force=args.force)
    migrated = (
        f"migrated from schema {summary.backup_revision} to {summary.revision}"
        if summary.backup_revision != summary.revision
        else f"schema {summary.revision}"
    )
    print(f"restored {args.source} into {summary.target} ({migrated}) in {summary.seconds:.2f} s")
    _print_rows(summary.rows)
    logs.record(
        "database.restore",
        user=SYSTEM_ACTOR.username,
        started=started,
        source=str(args.source),
        revision=summary.revision,
        rows=summary.rows,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridboard",
        description="GridBoard without a browser: seed, import, users. The database comes from "
        "--database-url or GRIDBOARD_DATABASE_URL (default: a SQLite file under data/).",
    )
    parser.add_argument("--database-url", default=None, help=URL_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--database-url", default=argparse.SUPPRESS, help=URL_HELP)
        sub.set_defaults(handler=handler)
        return sub

    def add_unopened(name: str, handler: UrlCommand, help_text: str) -> argparse.ArgumentParser:
        """A command that gets the database URL, not a database opened and migrated for it."""
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--database-url", default=argparse.SUPPRESS, help=URL_HELP)
        sub.set_defaults(handler=None, url_handler=handler)
        return sub

    seed = add(
        "seed",
        cmd_seed,
        "Fill an empty database with a realistic synthetic grid and its measurements.",
    )
    seed.add_argument("--components", type=_positive_int, default=100, help="default: 100")
    seed.add_argument(
        "--per-component",
        type=_positive_int,
        default=10_000,
        help="measurements per component, split over voltage, current and power (default 10000)",
    )
    seed.add_argument("--random-seed", type=int, default=42, help="same seed, same data")
    seed.add_argument(
        "--end",
        type=_timestamp,
        default=None,
        help="last measurement time, ISO 8601 (default: the start of today, UTC)",
    )

    for name, handler, what in (
        ("import-components", cmd_import_components, "components"),
        ("import-measurements", cmd_import_measurements, "measurements"),
    ):
        formats = "a CSV file" if what == "components" else "a CSV or Parquet file"
        sub = add(
            name,
            handler,
            f"Import {what} from {formats}: all rows or none; every bad line is listed.",
        )
        sub.add_argument("file", type=_existing_file, metavar="FILE")
        sub.add_argument(
            "--overwrite",
            action="store_true",
            help="replace rows whose key already exists (default: skip and count them)",
        )

    for name, handler, help_text in (
        ("create-user", cmd_create_user, "Create a user; the password is read from a prompt."),
        ("set-password", cmd_set_password, "Set a user's password, read from a prompt."),
    ):
        sub = add(name, handler, help_text)
        sub.add_argument("username")
        sub.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        if name == "create-user":
            sub.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
            sub.add_argument("--display-name")

    report = add(
        "report",
        cmd_report,
        "Compute a report over [start, end) now, store it like one asked for in the app, and "
        "write its tables as CSV files into a folder.",
    )
    report.add_argument("--start", type=_timestamp, required=True, help="ISO 8601, inclusive")
    report.add_argument("--end", type=_timestamp, required=True, help="ISO 8601, exclusive")
    report.add_argument("--tz", default="UTC", help="IANA time zone of the daily buckets")
    report.add_argument(
        "--out", type=_output_folder, required=True, help="folder for the CSV files"
    )

    out_help = "file to write, or - for standard output"
    format_help = "csv or parquet (default: parquet for a .parquet OUT, else csv)"
    export_components = add(
        "export-components",
        cmd_export_components,
        "Write the components list as CSV (or Parquet), narrowed like the Components page.",
    )
    export_components.add_argument("out", metavar="OUT", help=out_help)
    export_components.add_argument("--search", default="", help="in name or substation")
    export_components.add_argument(
        "--type", action="append", choices=[t.value for t in ComponentType], help="repeatable"
    )
    export_components.add_argument("--substation", action="append", help="repeatable")
    export_components.add_argument("--format", choices=["csv", "parquet"], help=format_help)

    export_measurements = add(
        "export-measurements",
        cmd_export_measurements,
        "Write one component's raw measurements as CSV or Parquet, in the columns an import reads.",
    )
    export_measurements.add_argument("out", metavar="OUT", help=out_help)
    export_measurements.add_argument("--component-id", type=_positive_int)
    export_measurements.add_argument("--name", help="the component's name (with --substation)")
    export_measurements.add_argument("--substation", help="the component's substation")
    export_measurements.add_argument(
        "--type", action="append", choices=[t.value for t in MeasurementType], help="repeatable"
    )
    export_measurements.add_argument("--start", type=_timestamp, help="ISO 8601, inclusive")
    export_measurements.add_argument("--end", type=_timestamp, help="ISO 8601, exclusive")
    export_measurements.add_argument("--format", choices=["csv", "parquet"], help=format_help)

    worker = add(
        "worker",
        cmd_worker,
        "Run queued reports (for deployments whose app replicas should not compute them).",
    )
    worker.add_argument(
        "--poll-seconds",
        type=_positive_float,
        default=2.0,
        help="how often an idle worker looks for reports (default 2)",
    )
    worker.add_argument(
        "--lease-seconds",
        type=_positive_float,
        default=LEASE_SECONDS,
        help="how long a claim lasts without renewal; a report whose worker died is taken "
        f"over this long after (default {LEASE_SECONDS:g}; renewed every third of it)",
    )
    worker.add_argument(
        "--stop-grace-seconds",
        type=_non_negative_float,
        default=STOP_GRACE_SECONDS,
        help="on SIGTERM, how long to let the current report finish before handing it back "
        f"to the queue (default {STOP_GRACE_SECONDS:g}; keep it below the kill timeout)",
    )
    worker.add_argument("--once", action="store_true", help="stop when the queue is empty")

    api = add(
        "api",
        cmd_api,
        "Serve the HTTP API (OpenAPI docs at /docs) for scripts, SCADA feeds and other tools.",
    )
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=_port, default=8000, help="default 8000")
    api.add_argument(
        "--workers", type=_positive_int, default=1, help="server processes (default 1)"
    )

    token = add(
        "create-token",
        cmd_create_token,
        "Make a named API token for a machine; it is printed once and stored only as a hash.",
    )
    token.add_argument("name", help="what uses it, e.g. scada-export")
    token.add_argument(
        "--scope",
        choices=["read", "write"],
        required=True,
        help="read: acts as a user; write: also adds and imports, as a manager",
    )
    token.add_argument(
        "--expires", type=_positive_int, default=None, metavar="DAYS", help="default: never"
    )
    add("list-tokens", cmd_list_tokens, "List the API tokens with their state and last use.")
    revoke = add("revoke-token", cmd_revoke_token, "Revoke an API token at once.")
    revoke.add_argument("token_id", type=int, metavar="ID", help="as list-tokens shows it")

    add(
        "rebuild-aggregates",
        cmd_rebuild_aggregates,
        "Recompute the measurement rollups that reports read from the raw measurements.",
    )

    backup = add_unopened(
        "backup",
        cmd_backup,
        "Back up the database into the file DEST while the app runs: one consistent snapshot, "
        "checked, written atomically (SQLite: online backup; PostgreSQL: pg_dump).",
    )
    backup.add_argument("destination", type=Path, metavar="DEST")
    backup.add_argument("--force", action="store_true", help="replace DEST if it exists")
    restore = add_unopened(
        "restore",
        cmd_restore,
        "Replace the database with the backup SRC, then migrate it. Stop the app and the "
        "worker first (SQLite: atomic file swap; PostgreSQL: pg_restore in one transaction).",
    )
    restore.add_argument("source", type=Path, metavar="SRC")
    restore.add_argument("--force", action="store_true", help="replace a database that holds rows")

    demo = add(
        "demo",
        cmd_demo,
        "Prepare a demo database: seed it when empty and create users 'user' and 'manager'.",
    )
    demo.add_argument("--components", type=_positive_int, default=100)
    demo.add_argument("--per-component", type=_positive_int, default=10_000)
    demo.add_argument("--random-seed", type=int, default=42)
    return parser


def report_error(error: GridBoardError, stream: TextIO) -> None:
    if isinstance(error, ImportRejected):
        stream.write(f"error: {error}\n")
        return
    if isinstance(error, UnreadableFile):
        stream.write(f"error: cannot import {error}\n")
        return
    stream.write(f"error: {error}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "worker":
        # A worker runs one report at a time, and a report is a few thousand rows for Polars:
        # its thread pool only adds contention there, and parallelism comes from running more
        # workers (bench/workers.py). Results do not depend on it. Read once, when Polars
        # starts; an operator's wins.
        os.environ.setdefault("POLARS_MAX_THREADS", "1")
    try:
        # A command's answer goes to stdout, so its logs go to stderr; a server only logs.
        logs.configure_logging(
            get_settings(), stream="stdout" if args.command in ("worker", "api") else "stderr"
        )
    except GridBoardError as error:
        report_error(error, sys.stderr)
        return EXIT_REFUSED
    if args.handler is None:
        return _run_unopened(args)
    try:
        database = open_database(args.database_url)
    except GridBoardError as error:
        report_error(error, sys.stderr)
        return EXIT_REFUSED
    try:
        handler: Command = args.handler
        return handler(args, database)
    except GridBoardError as error:
        report_error(error, sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing of the current step was written\n")
        return 130
    finally:
        database.dispose()


def _run_unopened(args: argparse.Namespace) -> int:
    try:
        url_handler: UrlCommand = args.url_handler
        return url_handler(args, args.database_url or get_settings().database_url)
    except GridBoardError as error:
        report_error(error, sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing was written\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
