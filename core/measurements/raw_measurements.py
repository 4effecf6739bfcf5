"""A component's raw measurements as one query and one frame, shared by the page's table, the
API's reads and the exports. See docs/architecture.md#imports."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import Row, Select, select

from core.domain import MeasurementType
from core.grid.components import of_component
from core.models import Measurement
from core.timestamps import to_micros


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
