"""The ``report`` command: compute a report now, store it, write its tables as CSV files.
See docs/reference.md#the-command-line."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from core.cli.common import CommandFailure, DatabaseCommand
from core.db import Database
from core.domain import SYSTEM_ACTOR


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


def period_text(text: str) -> str:
    """``--start``/``--end``: checked as ISO 8601 now; the instant it means needs ``--tz``."""
    from core.timestamps import BadTimestamp, parse_micros, parse_written

    try:
        if parse_written(text).tzinfo is not None:
            parse_micros(text)  # an instant with an offset must fit the calendar in UTC too
    except BadTimestamp as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _bound(option: str, text: str, time_zone: str) -> datetime:
    from core.errors import FieldProblem, InvalidInput
    from core.reports.periods import period_moment
    from core.timestamps import BadTimestamp

    try:
        return period_moment(text, time_zone=time_zone)
    except BadTimestamp as error:  # outside the calendar once placed in the zone
        raise InvalidInput([FieldProblem(option, str(error))]) from None


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    bound = "a date alone is midnight in --tz, a time without an offset --tz's wall clock"
    parser.add_argument(
        "--start", type=period_text, required=True, help=f"ISO 8601, inclusive; {bound}"
    )
    parser.add_argument(
        "--end", type=period_text, required=True, help=f"ISO 8601, exclusive; {bound}"
    )
    parser.add_argument(
        "--tz", default="UTC", help="IANA time zone of the daily buckets and of --start and --end"
    )
    parser.add_argument(
        "--out", type=_output_folder, required=True, help="folder for the CSV files"
    )


def _report(args: argparse.Namespace, database: Database) -> int:
    from core.paths import write_file
    from core.reports.export import table_csv
    from core.reports.jobs import ReportStatus, generate_report, get_report_tables, marked_tables

    out: Path = args.out  # checked by _output_folder before anything was computed
    record = generate_report(
        database,
        actor=SYSTEM_ACTOR,
        start=_bound("--start", args.start, args.tz),
        end=_bound("--end", args.end, args.tz),
        time_zone=args.tz,
    )
    if record.status is not ReportStatus.COMPLETED:
        raise CommandFailure(f"report {record.id} {record.status.value}: {record.error}")
    with database.read() as session:
        tables = get_report_tables(session=session, report_id=record.id)
    tables = marked_tables(record, tables)  # as the report page shows them

    def refuse(reason: str) -> CommandFailure:  # the disk filled, or the folder changed
        return CommandFailure(
            f"report {record.id} is stored, but writing its CSV files into {out} "
            f"failed: {reason}; download them from the app"
        )

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise refuse(str(error.strerror)) from None
    for name, frame in tables.items():
        write_file(out / f"{name}.csv", table_csv(frame), refuse)
    print(f"report {record.id} completed: {len(tables)} CSV files in {out}")
    return 0


REPORT = DatabaseCommand(
    name="report",
    help="Compute a report over [start, end) now, store it like one asked for in the app, and "
    "write its tables as CSV files into a folder.",
    arguments=_report_arguments,
    run=_report,
)
