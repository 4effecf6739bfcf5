"""A component's raw measurements: one query, shared by the page's table, the API's reads and
the exports, read whole as one frame or a batch at a time. See docs/architecture.md#imports."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from core.domain import MeasurementType
from core.grid.components import of_component
from core.models import Measurement
from core.timestamps import to_micros

# Rows fetched from the database and turned into one frame at a time by ``raw_batches``: a
# few megabytes, whatever the range holds.
BATCH_ROWS = 5_000
RAW_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "measurement_type": pl.String,
    "value": pl.Float64,
}


def raw_query(
    component_id: int,
    measurement_types: Collection[MeasurementType] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select[int, str, float]:
    """A component's raw measurements (timestamp_us, measurement_type, value) of the given
    types (every type when none are given) in [start, end), not yet ordered."""
    query = select(Measurement.timestamp_us, Measurement.measurement_type, Measurement.value).where(
        of_component(Measurement.component_id, component_id)
    )
    if measurement_types:
        kinds = sorted(MeasurementType(kind).value for kind in measurement_types)
        query = query.where(Measurement.measurement_type.in_(kinds))
    if start is not None:
        query = query.where(Measurement.timestamp_us >= to_micros(start))
    if end is not None:
        query = query.where(Measurement.timestamp_us < to_micros(end))
    return query


def raw_count(session: Session, query: Select[int, str, float]) -> int:
    """How many rows ``raw_query``'s ``query`` selects, counted by the database."""
    return int(session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0)


def raw_frame(rows: Sequence[Row[int, str, float]]) -> pl.DataFrame:
    """Rows of ``raw_query`` as a frame: timestamp (UTC), measurement_type, value."""
    return pl.DataFrame(
        rows,
        schema={"timestamp_us": pl.Int64, "measurement_type": pl.String, "value": pl.Float64},
        orient="row",
    ).select(
        pl.col("timestamp_us").cast(pl.Datetime("us", "UTC")).alias("timestamp"),
        "measurement_type",
        "value",
    )


def raw_batches(
    session: Session, query: Select[int, str, float], rows: int = BATCH_ROWS
) -> Iterator[pl.DataFrame]:
    """The rows of an ordered ``raw_query`` as frames of at most ``rows`` rows, fetched as
    they are taken (a server-side cursor on PostgreSQL, SQLite's own stepping), so a range
    of any length passes through the memory of one batch. Nothing when no row matches."""
    result = session.execute(query.execution_options(yield_per=rows))
    for part in result.partitions():
        yield raw_frame(part)


def merged_batches(streams: list[Iterator[pl.DataFrame]]) -> Iterator[pl.DataFrame]:
    """Batches of several streams, each in time order, as one stream in order of time, then
    type. Each stream reads its own index range; a database sort of them all would hold the
    whole range (SQLite sorts in memory). A batch ends at the earliest last time the streams
    still reading have reached, so at most one batch per stream is held."""
    pending = [pl.DataFrame(schema=RAW_SCHEMA) for _ in streams]
    live = set(range(len(streams)))
    while live or any(frame.height for frame in pending):
        for index in sorted(live):
            if not pending[index].height:
                batch = next(streams[index], None)
                if batch is None:
                    live.discard(index)
                else:
                    pending[index] = batch
        lasts = [pending[index]["timestamp"][-1] for index in live]
        taken = []
        for index, frame in enumerate(pending):
            ready = frame if not lasts else frame.filter(pl.col("timestamp") <= min(lasts))
            taken.append(ready)
            pending[index] = frame.slice(ready.height)
        merged = pl.concat(taken).sort("timestamp", "measurement_type")
        if merged.height:
            yield merged
