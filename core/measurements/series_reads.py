"""A component's series as the API reads it: every raw measurement, read a batch at a time
while it is sent, or each type downsampled. See docs/architecture.md#reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import polars as pl
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.db import Database
from core.domain import MeasurementType
from core.measurements.measurements import read_series, series_bounds
from core.measurements.raw_measurements import raw_batches, raw_count, raw_query
from core.models import Measurement
from core.timestamps import ONE_MICROSECOND

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "measurement_type": pl.String,
    "value": pl.Float64,
    "min_value": pl.Float64,
    "max_value": pl.Float64,
    "sample_count": pl.Int64,
}


def raw_series(
    *,
    database: Database,
    session: Session,
    component_id: int,
    kinds: list[MeasurementType],
    start: datetime | None,
    end: datetime | None,
) -> tuple[int, Iterator[pl.DataFrame]]:
    """How many raw measurements of ``kinds`` [start, end) holds (counted in ``session``),
    and their rows type after type in ``SCHEMA``, read in a session of their own as they are
    taken (the caller's may have ended by then)."""
    queries = [
        raw_query(component_id, [kind], start, end).order_by(Measurement.timestamp_us)
        for kind in kinds
    ]
    count = sum(raw_count(session, query) for query in queries)
    return count, _batches(database, queries)


def _batches(database: Database, queries: list[Select[int, str, float]]) -> Iterator[pl.DataFrame]:
    """Each query's rows in ``SCHEMA`` (raw rows: min = max = value, count 1)."""
    with database.read() as session:
        for query in queries:
            for batch in raw_batches(session, query):
                yield batch.select(
                    "timestamp",
                    "measurement_type",
                    "value",
                    pl.col("value").alias("min_value"),
                    pl.col("value").alias("max_value"),
                    pl.lit(1, pl.Int64).alias("sample_count"),
                )


def downsampled_series(
    *,
    session: Session,
    component_id: int,
    kinds: list[MeasurementType],
    start: datetime | None,
    end: datetime | None,
    max_points: int,
) -> tuple[list[pl.DataFrame], int, bool]:
    """Each type's series in the range, at most ``max_points`` rows each, how many raw
    measurements they stand for, and whether any was downsampled."""
    found, counted, downsampled = [], 0, False
    for kind in kinds:
        first, last = start, end
        if first is None or last is None:
            bounds = series_bounds(
                session=session, component_id=component_id, measurement_type=kind
            )
            if bounds.first is None or bounds.last is None:
                continue
            first = first or bounds.first
            last = last or bounds.last + ONE_MICROSECOND
            if first >= last:
                continue
        series = read_series(
            session=session,
            component_id=component_id,
            measurement_type=kind,
            start=first,
            end=last,
            max_points=max_points,
        )
        counted += series.raw_count
        downsampled = downsampled or series.downsampled
        frame = series.frame.with_columns(pl.lit(kind.value).alias("measurement_type"))
        found.append(frame.select(list(SCHEMA)))
    return found, counted, downsampled
