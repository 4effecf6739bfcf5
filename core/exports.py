"""Exports: the components list (filters applied) as CSV, and a component's raw measurements as
CSV or Parquet in the columns an import reads. See docs/architecture.md#imports."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import ComponentType, MeasurementType
from core.errors import InvalidInput
from core.grid.components import (
    ComponentFilter,
    ComponentSort,
    get_component,
)
from core.measurements.raw_measurements import raw_frame, raw_query
from core.models import Component, Measurement
from core.reports.export import table_csv

COMPONENT_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.Int64,
    "name": pl.String,
    "substation": pl.String,
    "component_type": pl.String,
    "capacity_mva": pl.Float64,
    "voltage_kv": pl.Float64,
    "length_km": pl.Float64,
    "status": pl.String,
    "updated_at": pl.Datetime("us", "UTC"),
    "updated_by": pl.String,
}


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


def components_frame(
    *,
    session: Session,
    search: str = "",
    component_types: Iterable[ComponentType] = (),
    substations: Iterable[str] = (),
    sort: ComponentSort = ComponentSort.NAME,
    descending: bool = False,
) -> pl.DataFrame:
    """Every component the list shows with these filters, in its order (not one page)."""
    conditions = ComponentFilter(
        search, frozenset(component_types), frozenset(substations)
    ).conditions()
    sort_column = getattr(Component, ComponentSort(sort).value)
    order = (sort_column.desc() if descending else sort_column.asc()).nulls_last()
    rows = session.execute(
        select(*(getattr(Component, name) for name in COMPONENT_COLUMNS))
        .where(*conditions)
        .order_by(order, Component.name, Component.substation, Component.id)
    ).all()
    frame = pl.DataFrame(
        [tuple(row) for row in rows],
        schema={**COMPONENT_COLUMNS, "updated_at": pl.Datetime("us")},
        orient="row",
    )
    return frame.with_columns(pl.col("updated_at").dt.replace_time_zone("UTC"))


def measurements_frame(
    *,
    session: Session,
    component_id: int,
    measurement_types: Iterable[MeasurementType] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.DataFrame:
    """A component's raw measurements in [start, end) of the given types (all types when
    none are given), oldest first, not downsampled."""
    component = get_component(session=session, component_id=component_id)
    if start is not None and end is not None and start >= end:
        raise InvalidInput.single("end", "must be after start")
    query = raw_query(component_id, list(measurement_types), start, end)
    rows = session.execute(
        query.order_by(Measurement.timestamp_us, Measurement.measurement_type)
    ).all()
    return raw_frame(rows).select(
        pl.lit(component.name, pl.String).alias("component_name"),
        pl.lit(component.substation, pl.String).alias("substation"),
        pl.all(),
    )


def _iso_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO 8601 text with their offset (``2024-05-01T13:45:00+00:00``)."""
    return frame.with_columns(
        pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S%.f%:z").str.replace(r"\.000000", "")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


def frame_bytes(frame: pl.DataFrame, export_format: ExportFormat) -> bytes:
    """``frame`` as a file: CSV (formulas neutralised, ISO times) or Parquet (typed)."""
    if ExportFormat(export_format) is ExportFormat.PARQUET:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()
    return table_csv(_iso_times(frame), exact=True)  # every digit: it imports back unchanged
