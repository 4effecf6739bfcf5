"""The grid data commands: ``import-components``, ``import-measurements``, the two exports,
``diagram`` (a substation as SVG) and ``delete-measurements``.
See docs/reference.md#the-command-line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli.common import (
    DatabaseCommand,
    existing_file,
    positive_int,
    progress_printer,
    timestamp,
)
from core.counts import format_count
from core.db import Database
from core.domain import SYSTEM_ACTOR, ComponentType, MeasurementType
from core.errors import InvalidInput

if TYPE_CHECKING:
    import polars as pl

    from core.imports.service import ImportKind


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=existing_file, metavar="FILE")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace rows whose key already exists (default: skip and count them)",
    )


def _import(args: argparse.Namespace, database: Database, kind: ImportKind) -> int:
    """Import ``FILE`` as ``kind`` rows in one transaction, then say what became of its rows."""
    from core.imports import run_import

    path: Path = args.file
    summary = run_import(
        database=database,
        actor=SYSTEM_ACTOR,
        kind=kind,
        source=path,
        file_name=path.name,
        overwrite=args.overwrite,
        allow_implausible=getattr(args, "allow_implausible", False),
        progress=progress_printer(sys.stderr, "importing"),
    )
    existing = (
        f"{summary.overwritten:,} overwritten" if args.overwrite else f"{summary.skipped:,} skipped"
    )
    print(
        f"{path.name}: {format_count(summary.rows, 'row')}, {summary.inserted:,} {kind} added, "
        f"{existing} "
        "(already in the database)"
    )
    if summary.created_substations:
        print(f"new substations: {', '.join(summary.created_substations)}")
    for note in summary.notes():
        print(f"{path.name}: {note}")
    return 0


IMPORT_COMPONENTS = DatabaseCommand(
    name="import-components",
    help="Import components from a CSV file: all rows or none; every bad line is listed.",
    arguments=_import_arguments,
    run=partial(_import, kind="components"),
)


def _import_measurements_arguments(parser: argparse.ArgumentParser) -> None:
    _import_arguments(parser)
    parser.add_argument(
        "--allow-implausible",
        action="store_true",
        help="let in values implausible for their component (a voltage over 2x its nominal kV, "
        "a negative current, a power beyond its rating) for this import; the audit log says so",
    )


IMPORT_MEASUREMENTS = DatabaseCommand(
    name="import-measurements",
    help="Import measurements from a CSV or Parquet file: all rows or none; every bad line is "
    "listed.",
    arguments=_import_measurements_arguments,
    run=partial(_import, kind="measurements"),
)

OUT_HELP = "file to write, or - for standard output"
FORMAT_HELP = "csv or parquet (default: parquet for a .parquet OUT, else csv)"


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    return "parquet" if str(args.out).lower().endswith(".parquet") else "csv"


def _write_frame(args: argparse.Namespace, frame: pl.DataFrame, what: str) -> None:
    """``frame`` in the format asked for to ``--out``, then (for a file) how many ``what``
    rows it holds."""
    write_batches(args, [frame], frame.schema, what)


def write_batches(
    args: argparse.Namespace,
    batches: Iterable[pl.DataFrame],
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
    what: str,
) -> None:
    """Frames of ``schema`` as one file in the format asked for, written to ``--out`` as they
    arrive, then (for a file) how many ``what`` rows it holds."""
    from core.exports import ExportFormat, file_chunks

    rows = 0

    def counted() -> Iterator[pl.DataFrame]:
        nonlocal rows
        for batch in batches:
            rows += batch.height
            yield batch

    _write_out(args.out, file_chunks(counted(), ExportFormat(_export_format(args)), schema))
    if args.out != "-":
        print(f"{rows} {what} written to {args.out}")


def check_out(out: str) -> None:
    """Refuse an ``OUT`` that may not be written (``core.paths.output_file_problem``: a
    missing folder, a FIFO, a device, a link...) before the database is read."""
    from core.paths import output_file_problem

    problem = None if out == "-" else output_file_problem(Path(out))
    if problem:
        raise InvalidInput.single("OUT", f"{problem}; name a new or regular file, or - for stdout")


def _write_out(out: str, chunks: Iterable[bytes]) -> None:
    """``chunks`` to the file ``out`` (written whole, then renamed into place; what is there
    is checked again), or to stdout for ``-``."""
    from core.paths import write_chunks

    if out == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    write_chunks(Path(out), chunks, lambda reason: InvalidInput.single("OUT", reason))


def _export_components_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help=OUT_HELP)
    parser.add_argument("--search", default="", help="in name or substation")
    parser.add_argument(
        "--type", action="append", choices=[t.value for t in ComponentType], help="repeatable"
    )
    parser.add_argument("--substation", action="append", help="repeatable")
    parser.add_argument("--format", choices=["csv", "parquet"], help=FORMAT_HELP)


def _export_components(args: argparse.Namespace, database: Database) -> int:
    from core.exports import components_frame

    check_out(args.out)
    with database.read() as session:
        frame = components_frame(
            session=session,
            search=args.search,
            component_types=args.type or (),
            substations=args.substation or (),
        )
    _write_frame(args, frame, "components")
    return 0


EXPORT_COMPONENTS = DatabaseCommand(
    name="export-components",
    help="Write the components list as CSV (or Parquet), narrowed like the Components page.",
    arguments=_export_components_arguments,
    run=_export_components,
)


def _export_measurements_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help=OUT_HELP)
    parser.add_argument("--component-id", type=positive_int)
    parser.add_argument("--name", help="the component's name (with --substation)")
    parser.add_argument("--substation", help="the component's substation")
    parser.add_argument(
        "--type", action="append", choices=[t.value for t in MeasurementType], help="repeatable"
    )
    parser.add_argument("--start", type=timestamp, help="ISO 8601, inclusive")
    parser.add_argument("--end", type=timestamp, help="ISO 8601, exclusive")
    parser.add_argument("--format", choices=["csv", "parquet"], help=FORMAT_HELP)


def _export_measurements(args: argparse.Namespace, database: Database) -> int:
    from core.exports import MEASUREMENT_COLUMNS, measurements_export
    from core.grid.components import find_component

    check_out(args.out)
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
        export = measurements_export(
            session=session,
            component_id=component_id,
            measurement_types=args.type or (),
            start=args.start,
            end=args.end,
        )
        # Read while written: one batch of rows in memory, whatever the range holds.
        write_batches(args, export.batches(session), MEASUREMENT_COLUMNS, "measurements")
    return 0


EXPORT_MEASUREMENTS = DatabaseCommand(
    name="export-measurements",
    help="Write one component's raw measurements as CSV or Parquet, in the columns an import "
    "reads.",
    arguments=_export_measurements_arguments,
    run=_export_measurements,
)


def _diagram_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("substation", metavar="SUBSTATION", help="the substation's name")
    parser.add_argument("--out", required=True, metavar="FILE.svg", help=OUT_HELP)


def _diagram(args: argparse.Namespace, database: Database) -> int:
    from core.diagram import substation_diagram

    check_out(args.out)
    with database.read() as session:
        svg = substation_diagram(session=session, name=args.substation)
    _write_out(args.out, [svg.encode()])
    if args.out != "-":
        print(f"the diagram of {args.substation} written to {args.out}")
    return 0


DIAGRAM = DatabaseCommand(
    name="diagram",
    help="Write a substation's single-line diagram as SVG (as the Substation page and the API "
    "draw it).",
    arguments=_diagram_arguments,
    run=_diagram,
)


def _delete_measurements_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--component", type=positive_int, required=True, metavar="ID")
    parser.add_argument(
        "--type", required=True, choices=[t.value for t in MeasurementType], dest="kind"
    )
    parser.add_argument("--start", type=timestamp, required=True, help="ISO 8601, inclusive")
    parser.add_argument("--end", type=timestamp, required=True, help="ISO 8601, exclusive")


def _delete_measurements(args: argparse.Namespace, database: Database) -> int:
    from core.measurements.deletions import delete_measurements

    with database.write() as session:
        deleted = delete_measurements(
            session=session, actor=SYSTEM_ACTOR, component_id=args.component,
            measurement_type=args.kind, start=args.start, end=args.end,
        )  # fmt: skip
    print(
        f"{deleted} {args.kind} measurements of component {args.component} deleted "
        f"in [{args.start.isoformat()}, {args.end.isoformat()})"
    )
    return 0


DELETE_MEASUREMENTS = DatabaseCommand(
    name="delete-measurements",
    help="Delete one component's measurements of one type in [--start, --end); the "
    "aggregates stay exact and the deletion is audited.",
    arguments=_delete_measurements_arguments,
    run=_delete_measurements,
)
