"""Import measurements from CSV or Parquet: every cell checked at once (``measurement_checks``),
then one atomic write through ``core.measurements.measurement_store``.
See docs/design.md#import-formats."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import logs
from core.alarms.engine import evaluate_measurements
from core.alarms.spans import reevaluate_spans, spans_of
from core.domain import Actor, require_manager
from core.import_errors import ImportRejection, UnreadableFile
from core.imports.csv_table import read_csv_table
from core.imports.files import decode_text, is_parquet, read_bytes
from core.imports.limits import one_at_a_time
from core.imports.measurement_checks import add_row_problems, check_measurements, columns_for
from core.imports.parquet_table import read_parquet_table
from core.imports.summary import ImportSummary
from core.measurements.measurement_store import (
    KEY,
    MEASUREMENT_SCHEMA,
    WriteCounts,
    write_measurements,
)
from core.measurements.plausibility import RATING_SCHEMA
from core.models import Component, Measurement

_WRITE_BATCH_ROWS = 250_000
# Share of the progress bar each phase fills: reading, checking, writing.
_READ, _CHECK = 0.3, 0.45


@one_at_a_time
def import_measurements(
    *,
    session: Session,
    actor: Actor,
    source: bytes | Path,
    file_name: str,
    overwrite: bool = False,
    allow_implausible: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportSummary:
    """Import a measurements file (CSV, or Parquet with the same columns) atomically.

    Refuses the whole file with ``ImportRejection`` (every bad cell, by line and column) or
    ``UnreadableFile``; otherwise writes every row, skipping keys already stored unless
    ``overwrite`` replaces their values. Values implausible for their component are bad
    cells unless ``allow_implausible`` (the import's log record says so). ``progress`` gets
    the fraction done, 0 to 1.
    """
    started = time.perf_counter()
    require_manager(actor, "import measurements")
    report = progress or (lambda _fraction: None)
    data = read_bytes(source, file_name)
    if not data:
        raise UnreadableFile(file_name, "the file is empty")
    if is_parquet(data, file_name):
        table = read_parquet_table(data, file_name=file_name, columns_for=columns_for)
    else:
        table = read_csv_table(
            decode_text(data, file_name),
            file_name=file_name,
            columns_for=columns_for,
            progress=lambda fraction: report(_READ * fraction),
        )
    del data
    report(_READ)
    checked = check_measurements(
        table.frame, _inventory(session), allow_implausible=allow_implausible
    )
    problems = table.problems
    add_row_problems(checked, problems)
    if problems:
        raise ImportRejection(problems)
    report(_CHECK)
    # in index order: the unique index grows at its ends, not all over, and the evaluation
    # finds each series in time order
    written = checked.select(list(MEASUREMENT_SCHEMA)).sort(KEY)
    del checked
    newest = _newest(session, written)
    counts = _write(session, written, overwrite, report)
    _evaluate(session, written, newest)
    report(1.0)
    summary = ImportSummary(
        file_name=file_name,
        rows=table.rows,
        inserted=counts.inserted,
        skipped=counts.skipped,
        overwritten=counts.overwritten,
        ignored_columns=table.ignored,
        allow_implausible=allow_implausible,
    )
    logs.on_commit(
        session,
        "import.measurements",
        user=actor.username,
        started=started,
        **summary.log_fields(),
    )
    return summary


def _newest(session: Session, written: pl.DataFrame) -> pl.DataFrame:
    """The newest stored instant of each series of ``written`` (before it is written): one
    seek in the measurements' key per series, in one statement."""
    kinds = written.get_column("measurement_type").unique().sort().to_list()
    ids = written.get_column("component_id").unique().sort().to_list()
    rows: list[tuple[int, str, int | None]] = []
    for start in range(0, len(ids), 500):
        newest = [
            select(func.max(Measurement.timestamp_us))
            .where(Measurement.component_id == Component.id, Measurement.measurement_type == kind)
            .correlate(Component)
            .scalar_subquery()
            for kind in kinds
        ]
        query = select(Component.id, *newest).where(Component.id.in_(ids[start : start + 500]))
        for component_id, *times in session.execute(query).all():
            rows += [(component_id, kind, at) for kind, at in zip(kinds, times, strict=True)]
    return pl.DataFrame(
        rows,
        schema={"component_id": pl.Int64, "measurement_type": pl.String, "newest_us": pl.Int64},
        orient="row",
    )


def _evaluate(session: Session, written: pl.DataFrame, newest: pl.DataFrame) -> None:
    """Alarms from what is now stored. A series the file only extends (its rows all after
    what was stored) is evaluated as a batch; one whose stored samples the file replaced, kept
    (skipped rows) or fell among is re-evaluated over the file's span, so that its alarms are
    what evaluating its whole history gives."""
    series = ["component_id", "measurement_type"]
    written = written.with_columns(pl.col("measurement_type").cast(pl.String))
    # one row per series rather than a window over every row
    among = (
        written.group_by(series)
        .agg(pl.col("timestamp_us").min().alias("first_us"))
        .join(newest, on=series)
        .filter(pl.col("newest_us") >= pl.col("first_us"))
        .select(series)
    )
    if among.is_empty():
        evaluate_measurements(session, written)
        return
    appended = written.join(among, on=series, how="anti")
    if not appended.is_empty():
        evaluate_measurements(session, appended)
    spans = spans_of(written.join(among, on=series, how="semi"))
    reevaluate_spans(session, spans, why="measurements imported among stored ones")


def _inventory(session: Session) -> pl.DataFrame:
    rows = session.execute(
        select(*(getattr(Component, name) for name in ("id", "name", "substation", *RATING_SCHEMA)))
    ).all()
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema={"component_id": pl.Int64, "name": pl.String, "substation": pl.String,
                **RATING_SCHEMA},
        orient="row",
    )  # fmt: skip


def _write(
    session: Session,
    frame: pl.DataFrame,
    overwrite: bool,
    report: Callable[[float], None],
) -> WriteCounts:
    """Write ``frame`` (sorted by key) in batches (one transaction) so that ``report`` can
    follow the progress."""
    inserted = skipped = overwritten = 0
    for start in range(0, frame.height, _WRITE_BATCH_ROWS):
        counts = write_measurements(
            session, frame.slice(start, _WRITE_BATCH_ROWS), overwrite=overwrite
        )
        inserted += counts.inserted
        skipped += counts.skipped
        overwritten += counts.overwritten
        done = min(frame.height, start + _WRITE_BATCH_ROWS) / frame.height
        report(_CHECK + (1.0 - _CHECK) * done)
    return WriteCounts(inserted=inserted, skipped=skipped, overwritten=overwritten)
