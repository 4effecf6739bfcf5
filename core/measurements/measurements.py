"""Measurements: add one, and read one component's series for charts and tables.
See docs/design.md#measurements."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import logs
from core.alarms.single import evaluate_sample
from core.alarms.spans import SPANS_SCHEMA, reevaluate_spans
from core.domain import Actor, MeasurementType, require_manager
from core.errors import DuplicateMeasurement, FieldProblem, InvalidInput
from core.grid.components import check_page, of_component
from core.measurements.measurement_store import Rating, write_one
from core.measurements.plausibility import implausible_reason
from core.measurements.raw_measurements import raw_frame, raw_query
from core.models import Measurement
from core.timestamps import (
    SECOND_US,
    BadTimestamp,
    from_micros,
    micros_of,
    to_micros,
)
from core.validation import FieldError, parse_choice, parse_number


def validate_measurement(
    *, measurement_type: object, timestamp: object, value: object
) -> tuple[MeasurementType, int, float]:
    problems: list[FieldProblem] = []
    kind: MeasurementType | None = None
    micros: int | None = None
    number: float | None = None
    try:
        kind = parse_choice(measurement_type, MeasurementType)
    except FieldError as error:
        problems.append(FieldProblem("measurement_type", str(error)))
    try:
        micros = micros_of(timestamp)
    except BadTimestamp as error:
        problems.append(FieldProblem("timestamp", str(error)))
    try:
        number = parse_number(value)
    except FieldError as error:
        problems.append(FieldProblem("value", str(error)))
    if problems or kind is None or micros is None or number is None:
        raise InvalidInput(problems)
    return kind, micros, number


@dataclass(frozen=True, slots=True)
class MeasurementRecord:
    id: int
    component_id: int
    measurement_type: MeasurementType
    timestamp: datetime
    value: float


@dataclass(frozen=True, slots=True)
class AddedMeasurement:
    """What ``add_measurement`` did: the measurement as stored, and whether it was new or
    replaced a stored one."""

    record: MeasurementRecord
    inserted: int
    overwritten: int


def add_measurement(
    *,
    session: Session,
    actor: Actor,
    component_id: int,
    measurement_type: object,
    timestamp: object,
    value: object,
    overwrite: bool = False,
) -> AddedMeasurement:
    """Add one measurement; an existing key is refused unless ``overwrite`` replaces it, and
    a value implausible for the component (``core.measurements.plausibility``) is refused."""
    started = time.perf_counter()
    require_manager(actor, "add measurements")
    kind, micros, number = validate_measurement(
        measurement_type=measurement_type, timestamp=timestamp, value=value
    )

    def plausible(rating: Rating) -> None:
        reason = implausible_reason(
            measurement_type=kind.value, value=number, component_type=rating.component_type,
            voltage_kv=rating.voltage_kv, capacity_mva=rating.capacity_mva,
        )  # fmt: skip
        if reason is not None:
            raise InvalidInput.single("value", reason)

    written = write_one(
        session, component_id, kind.value, micros, number, overwrite=overwrite, check=plausible
    )
    if written is None:
        raise DuplicateMeasurement(component_id, kind.value, from_micros(micros).isoformat())
    counts = written.counts
    if counts.overwritten:  # a replaced value may start, end or change an excursion
        span = (component_id, kind.value, micros, micros)
        reevaluate_spans(
            session, pl.DataFrame([span], schema=SPANS_SCHEMA, orient="row"),
            why="measurement replaced",
        )  # fmt: skip
    else:
        evaluate_sample(
            session, written.component, component_id=component_id,
            measurement_type=kind.value, timestamp_us=micros, value=number,
        )  # fmt: skip
    logs.on_commit(
        session,
        "measurement.add",
        user=actor.username,
        started=started,
        component_id=component_id,
        measurement_type=kind.value,
        timestamp=from_micros(micros).isoformat(),
        inserted=counts.inserted,
        overwritten=counts.overwritten,
    )
    record = MeasurementRecord(
        id=written.id,
        component_id=component_id,
        measurement_type=kind,
        timestamp=from_micros(micros),
        value=number,
    )
    return AddedMeasurement(record, inserted=counts.inserted, overwritten=counts.overwritten)


def find_measurement(
    *, session: Session, component_id: int, measurement_type: object, timestamp: object
) -> MeasurementRecord | None:
    """The stored measurement with this key (the type and timestamp read as ``add_measurement``
    reads them), or ``None``."""
    try:
        kind = parse_choice(measurement_type, MeasurementType)
        micros = micros_of(timestamp)
    except (FieldError, BadTimestamp):
        return None
    row = session.scalars(
        select(Measurement).where(
            of_component(Measurement.component_id, component_id),
            Measurement.measurement_type == kind.value,
            Measurement.timestamp_us == micros,
        )
    ).first()
    if row is None:
        return None
    return MeasurementRecord(
        id=row.id,
        component_id=row.component_id,
        measurement_type=MeasurementType(row.measurement_type),
        timestamp=from_micros(row.timestamp_us),
        value=row.value,
    )


@dataclass(frozen=True, slots=True)
class SeriesBounds:
    first: datetime | None
    last: datetime | None
    count: int


def series_bounds(
    *, session: Session, component_id: int, measurement_type: MeasurementType | None = None
) -> SeriesBounds:
    """First and last timestamp and count of a component's measurements (of one type)."""
    query = select(
        func.min(Measurement.timestamp_us), func.max(Measurement.timestamp_us), func.count()
    ).where(of_component(Measurement.component_id, component_id))
    if measurement_type is not None:
        query = query.where(Measurement.measurement_type == measurement_type.value)
    first, last, count = session.execute(query).one()
    return SeriesBounds(
        first=from_micros(first) if first is not None else None,
        last=from_micros(last) if last is not None else None,
        count=int(count),
    )


@dataclass(frozen=True, slots=True)
class Series:
    """A chart-ready series.

    ``frame`` has columns ``timestamp`` (UTC datetime), ``value``, ``min_value``, ``max_value``
    and ``sample_count``. Raw points have min = max = value and count 1; a downsampled bucket
    has its mean in ``value`` and its extremes in ``min_value``/``max_value``, so peaks
    survive however far the series is reduced.
    """

    frame: pl.DataFrame
    downsampled: bool
    raw_count: int
    bucket_seconds: float | None


SERIES_SCHEMA: dict[str, Any] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "value": pl.Float64,
    "min_value": pl.Float64,
    "max_value": pl.Float64,
    "sample_count": pl.Int64,
}
_BUCKET_VALUES = {name: dtype for name, dtype in SERIES_SCHEMA.items() if name != "timestamp"}


def read_series(
    *,
    session: Session,
    component_id: int,
    measurement_type: MeasurementType,
    start: datetime,
    end: datetime,
    max_points: int = 2000,
) -> Series:
    """A component's measurements of one type in [start, end), at most ``max_points`` rows.

    Up to ``max_points`` measurements come back as they are; beyond that the database groups
    them into equal time buckets (mean, min, max, count per bucket), so a series of millions
    of points costs one indexed range scan and ``max_points`` rows of transfer.
    """
    if max_points < 1:
        raise InvalidInput([FieldProblem("max_points", "must be at least 1")])
    low, high = to_micros(start), to_micros(end)
    if low >= high:
        raise InvalidInput([FieldProblem("end", "must be after start")])
    in_range = (
        of_component(Measurement.component_id, component_id),
        Measurement.measurement_type == measurement_type.value,
        Measurement.timestamp_us >= low,
        Measurement.timestamp_us < high,
    )
    count = int(session.scalar(select(func.count()).where(*in_range)) or 0)
    if count <= max_points:
        rows = session.execute(
            select(Measurement.timestamp_us, Measurement.value)
            .where(*in_range)
            .order_by(Measurement.timestamp_us)
        ).all()
        frame = pl.DataFrame(
            rows, schema={"timestamp_us": pl.Int64, "value": SERIES_SCHEMA["value"]}, orient="row"
        ).select(
            pl.col("timestamp_us").cast(SERIES_SCHEMA["timestamp"]).alias("timestamp"),
            pl.col("value"),
            pl.col("value").alias("min_value"),
            pl.col("value").alias("max_value"),
            pl.lit(1, pl.Int64).alias("sample_count"),
        )
        return Series(frame=frame, downsampled=False, raw_count=count, bucket_seconds=None)

    width = -(-(high - low) // max_points)  # ceiling division: at most max_points buckets
    bucket = (Measurement.timestamp_us - low) // width
    rows = session.execute(
        select(
            bucket.label("bucket"),
            func.avg(Measurement.value),
            func.min(Measurement.value),
            func.max(Measurement.value),
            func.count(),
            func.min(Measurement.timestamp_us),
        )
        .where(*in_range)
        .group_by("bucket")
        .order_by("bucket")
    ).all()
    frame = pl.DataFrame(
        [row[1:] for row in rows],
        schema={**_BUCKET_VALUES, "first_us": pl.Int64},
        orient="row",
    ).select(
        pl.col("first_us").cast(SERIES_SCHEMA["timestamp"]).alias("timestamp"),
        "value",
        "min_value",
        "max_value",
        "sample_count",
    )
    return Series(frame=frame, downsampled=True, raw_count=count, bucket_seconds=width / SECOND_US)


def list_measurements(
    *,
    session: Session,
    component_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
    measurement_types: Collection[MeasurementType] = (),
) -> pl.DataFrame:
    """One page of raw measurements, newest first: timestamp, measurement_type, value (of
    ``measurement_types``; every type when none is given)."""
    check_page(offset, limit)
    query = raw_query(component_id, measurement_types, start, end)
    rows = session.execute(
        query.order_by(Measurement.timestamp_us.desc(), Measurement.measurement_type)
        .offset(offset)
        .limit(limit)
    ).all()
    return raw_frame(rows)
