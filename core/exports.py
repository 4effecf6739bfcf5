"""Exports: the components list and the alarms list (filters applied) as CSV, and a component's
raw measurements as CSV or Parquet in the columns an import reads, written in chunks. See
docs/architecture.md#reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import polars as pl
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.access.audit_log import AUDIT_SCHEMA, AuditFilter, audit_frames
from core.alarms.records import AlarmFilter, AlarmOrder
from core.counts import format_count
from core.domain import Actor, ComponentType, MeasurementType
from core.errors import InvalidInput
from core.grid.component_fields import COMPONENT_FIELDS, OPTIONAL_FIELDS
from core.grid.components import (
    ComponentFilter,
    ComponentSort,
    get_component,
)
from core.measurements.raw_measurements import (
    RAW_SCHEMA,
    merged_batches,
    raw_batches,
    raw_count,
    raw_query,
)
from core.models import Alarm, Component, Measurement
from core.streamed_files import csv_chunks, parquet_chunks
from core.timestamps import SECOND_US

_POLARS_TYPES: dict[type, pl.DataType | type[pl.DataType]] = {
    int: pl.Int64,
    str: pl.String,
    float: pl.Float64,
    datetime: pl.Datetime("us", "UTC"),
}
# The columns of the components list's file: every column the import reads (a line's other
# end included) between the id and who changed it last, which the import ignores, typed as the
# table stores them. The file imports back unchanged.
COMPONENT_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    name: _POLARS_TYPES[Component.__table__.c[name].type.python_type]
    for name in ("id", *COMPONENT_FIELDS, *OPTIONAL_FIELDS, "updated_at", "updated_by")
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


MEASUREMENT_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "component_name": pl.String,
    "substation": pl.String,
    **RAW_SCHEMA,
}
# The dashboard hands a download to the browser as one piece it holds in memory (Streamlit's
# download button); a larger range is exported by the command line or the API, which stream.
DOWNLOAD_MAX_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class MeasurementsExport:
    """A component's raw measurements to export, checked when made, read a batch at a time."""

    component_name: str
    substation: str
    queries: list[Select[int, str, float]]  # one per type, in time order

    def batches(self, session: Session) -> Iterator[pl.DataFrame]:
        """The rows in import columns, in order of time then type, a batch at a time."""
        streams = [raw_batches(session, query) for query in self.queries]
        for batch in merged_batches(streams):
            yield batch.select(
                pl.lit(self.component_name, pl.String).alias("component_name"),
                pl.lit(self.substation, pl.String).alias("substation"),
                pl.all(),
            )

    def count(self, session: Session) -> int:
        return sum(raw_count(session, query) for query in self.queries)


def measurements_export(
    *,
    session: Session,
    component_id: int,
    measurement_types: Iterable[MeasurementType] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> MeasurementsExport:
    """A component's raw measurements in [start, end) of the given types (all types when
    none are given), oldest first, not downsampled; an unknown component or a bad range is
    refused here, before anything is read or written."""
    component = get_component(session=session, component_id=component_id)
    if start is not None and end is not None and start >= end:
        raise InvalidInput.single("end", "must be after start")
    kinds = sorted(set(measurement_types) or set(MeasurementType))
    queries = [
        raw_query(component_id, [kind], start, end).order_by(Measurement.timestamp_us)
        for kind in kinds
    ]
    return MeasurementsExport(component.name, component.substation, queries)


def download_problem(count: int) -> str | None:
    """Why the dashboard offers no download of ``count`` raw measurements, or None."""
    if count <= DOWNLOAD_MAX_ROWS:
        return None
    return (
        f"This range holds {format_count(count, 'measurement')}; a download from the dashboard "
        f"holds at most {DOWNLOAD_MAX_ROWS:,}. Drag a box over the chart or pick a shorter time "
        "range, "
        "or export any range with `gridboard export-measurements` or the API's "
        "GET /components/{id}/measurements, which stream it."
    )


def file_chunks(
    batches: Iterable[pl.DataFrame],
    export_format: ExportFormat,
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
) -> Iterator[bytes]:
    """Frames of ``schema`` as one file in chunks: CSV (formulas neutralised, times as the
    API writes them, every digit, so it imports back unchanged) or Parquet (typed)."""
    if ExportFormat(export_format) is ExportFormat.PARQUET:
        return parquet_chunks(batches, schema)
    return csv_chunks(batches, schema, exact=True)


def frame_bytes(frame: pl.DataFrame, export_format: ExportFormat) -> bytes:
    """``frame`` as one file in ``export_format`` (see ``file_chunks``)."""
    return b"".join(file_chunks([frame], export_format, frame.schema))


_UTC = pl.Datetime("us", "UTC")
# The alarms list's file: one row per alarm in the list's order, times in UTC, the duration
# (cleared - raised) in seconds for a cleared one.
ALARM_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "alarm_id": pl.Int64,
    "component_id": pl.Int64,
    "component_name": pl.String,
    "substation": pl.String,
    "component_type": pl.String,
    "measurement_type": pl.String,
    "kind": pl.String,
    "severity": pl.String,
    "state": pl.String,
    "limit": pl.Float64,
    "worst_value": pl.Float64,
    "worst_at": _UTC,
    "raised_at": _UTC,
    "cleared_at": _UTC,
    "duration_seconds": pl.Float64,
    "shelved_until": _UTC,
    "shelve_reason": pl.String,
}
ALARM_BATCH_ROWS = 5_000


# What the file reads, as stored: microseconds become instants in one Polars step per batch.
_ALARM_FIELDS = {
    "alarm_id": Alarm.id, "component_id": Alarm.component_id, "component_name": Component.name,
    "substation": Component.substation, "component_type": Component.component_type,
    "measurement_type": Alarm.measurement_type, "kind": Alarm.kind, "severity": Alarm.severity,
    "state": Alarm.state, "limit": Alarm.limit_value, "worst_value": Alarm.worst_value,
    "worst_at": Alarm.worst_at_us, "raised_at": Alarm.raised_at_us,
    "cleared_at": Alarm.cleared_at_us, "shelved_until": Alarm.shelved_until,
    "shelve_reason": Alarm.shelve_reason,
}  # fmt: skip
_MICROS = ("worst_at", "raised_at", "cleared_at")


def alarm_batches(
    *,
    session: Session,
    filters: AlarmFilter,
    order: AlarmOrder = AlarmOrder.URGENCY,
    now: datetime | None = None,
) -> Iterator[pl.DataFrame]:
    """Every alarm ``filters`` match, in ``order``, in ``ALARM_COLUMNS``, a batch at a time
    (a server-side cursor on PostgreSQL): the list's file, whatever its length."""
    query = filters.ordered(order, now).with_only_columns(*_ALARM_FIELDS.values())
    schema = {name: pl.Int64 if name in _MICROS else ALARM_COLUMNS[name] for name in _ALARM_FIELDS}
    result = session.execute(query.execution_options(yield_per=ALARM_BATCH_ROWS))
    for part in result.partitions():
        frame = pl.DataFrame([tuple(row) for row in part], schema=schema, orient="row")
        yield (
            frame.with_columns(
                *(pl.from_epoch(name, "us").dt.replace_time_zone("UTC") for name in _MICROS),
            )
            .select(
                *(name for name in ALARM_COLUMNS if name != "duration_seconds"),
                (
                    (pl.col("cleared_at") - pl.col("raised_at")).dt.total_microseconds() / SECOND_US
                ).alias("duration_seconds"),
            )
            .select(list(ALARM_COLUMNS))
        )


def alarms_csv(
    *, session: Session, filters: AlarmFilter, order: AlarmOrder = AlarmOrder.URGENCY
) -> bytes:
    """The list's file as the dashboard hands it over: one piece, built a batch at a time."""
    return b"".join(
        csv_chunks(alarm_batches(session=session, filters=filters, order=order), ALARM_COLUMNS)
    )


def audit_csv(*, session: Session, actor: Actor, where: AuditFilter) -> bytes:
    """The audit log's entries ``where`` matches as the dashboard hands them over: one CSV
    file, built a batch at a time (a manager's role checked first)."""
    return b"".join(
        csv_chunks(audit_frames(session=session, actor=actor, where=where), AUDIT_SCHEMA)
    )


def alarm_download_problem(count: int) -> str | None:
    """Why the dashboard offers no download of a list of ``count`` alarms, or None."""
    if count <= DOWNLOAD_MAX_ROWS:
        return None
    return (
        f"This list holds {format_count(count, 'alarm')}; a download from the dashboard holds "
        f"at most {DOWNLOAD_MAX_ROWS:,}. Narrow the filters (a shorter period, one substation) "
        "to download it, or read every page of GET /alarms from the API."
    )
