"""Measurements: add one, and read one component's series for charts and tables.
See docs/design.md#measurements."""

from __future__ import annotations

import functools
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import polars as pl
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core import logs
from core.alarms.engine import evaluate_measurements
from core.alarms.single import Watched, evaluate_sample, watch_columns
from core.db import DriverStatement
from core.domain import Actor, MeasurementType, require_manager
from core.errors import DuplicateMeasurement, FieldProblem, InvalidInput, UnknownComponent
from core.grid.components import check_page, of_component
from core.measurements import rollups
from core.measurements.measurement_store import WriteCounts, write_measurements
from core.measurements.raw_measurements import raw_frame, raw_query
from core.models import ID_RANGE, Component, Measurement
from core.timestamps import (
    SECOND_US,
    BadTimestamp,
    check_micros,
    from_micros,
    parse_micros,
    to_micros,
)
from core.validation import FieldError, parse_choice, parse_number


@dataclass(frozen=True, slots=True)
class MeasurementInput:
    component_id: int
    measurement_type: MeasurementType
    timestamp_us: int
    value: float


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
        if isinstance(timestamp, datetime):
            micros = check_micros(to_micros(timestamp), timestamp.isoformat())
        elif isinstance(timestamp, str):
            micros = parse_micros(timestamp)
        else:
            raise BadTimestamp(repr(timestamp))
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


_KEY = ["component_id", "measurement_type", "timestamp_us"]


def _insert_one(
    session: Session,
    component: Watched,
    component_id: int,
    kind: MeasurementType,
    micros: int,
    value: float,
) -> int | None:
    """Insert one measurement and fold it into its rollup with plain statements (a feed sends
    them one by one): the new row's id, or ``None`` when its key is already stored. The caller
    holds the rollups' lock since it read ``component``."""
    dialect = session.get_bind().dialect.name
    row = _insert_statement(dialect).first(
        session,
        {
            "component_id": component_id,
            "measurement_type": kind.value,
            "timestamp_us": micros,
            "value": value,
        },
    )
    added: int | None = None if row is None else row.id
    if added is not None:
        rollups.add_one(session, component[0], component[1], kind.value, micros, value)
    return added


# A feed posts measurements one by one: the statements are built and compiled once, and run
# on the driver's cursor (``DriverStatement``), so each post skips SQLAlchemy's work per
# statement (most of a post's time in SQLAlchemy).
@functools.cache
def _insert_statement(dialect: str) -> DriverStatement:
    upsert = sqlite_insert if dialect == "sqlite" else pg_insert
    table = cast(Table, Measurement.__table__)
    return DriverStatement(
        upsert(table)
        .values({name: bindparam(name) for name in (*_KEY, "value")})
        .on_conflict_do_nothing(index_elements=_KEY)
        .returning(table.c.id)
    )


_components = Component.__table__.c
_COMPONENT_KEY = DriverStatement(
    select(
        _components.component_type,
        _components.voltage_kv,
        *watch_columns(bindparam("component_id"), bindparam("measurement_type")),
    ).where(_components.id == bindparam("component_id"))
)


def _component_key(session: Session, component_id: int, measurement_type: str) -> Watched:
    """The component's type and voltage (what its rollup rows are keyed by) and what the
    alarms' quick look needs, or ``UnknownComponent``: one plain query, where
    ``get_component`` loads the whole row."""
    found = (
        _COMPONENT_KEY.first(
            session, {"component_id": component_id, "measurement_type": measurement_type}
        )
        if component_id in ID_RANGE
        else None
    )
    if found is None:
        raise UnknownComponent(component_id)
    return Watched(*found)


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
    """Add one measurement; an existing key is refused unless ``overwrite`` replaces it."""
    started = time.perf_counter()
    require_manager(actor, "add measurements")
    kind, micros, number = validate_measurement(
        measurement_type=measurement_type, timestamp=timestamp, value=value
    )
    # The lock before the component's key: a type or level change (or a deletion) holds it
    # until it commits, so the key read after it is the one the rollup row must carry (read
    # before it, PostgreSQL's next statement would still see the old key).
    rollups.lock(session)
    component = _component_key(session, component_id, kind.value)
    frame = pl.DataFrame(
        {
            "component_id": [component_id],
            "measurement_type": [kind.value],
            "timestamp_us": [micros],
            "value": [number],
        }
    )
    if overwrite:
        counts = write_measurements(session, frame, overwrite=True)
        added = find_measurement(
            session=session, component_id=component_id, measurement_type=kind, timestamp=timestamp
        )
    else:
        new_id = _insert_one(session, component, component_id, kind, micros, number)
        if new_id is None:
            raise DuplicateMeasurement(component_id, kind.value, from_micros(micros).isoformat())
        counts = WriteCounts(inserted=1)
        added = MeasurementRecord(
            id=new_id,
            component_id=component_id,
            measurement_type=kind,
            timestamp=from_micros(micros),
            value=number,
        )
    if overwrite:  # a replaced value may end or change an excursion: the whole evaluation
        evaluate_measurements(session, frame)
    else:
        evaluate_sample(
            session, component, component_id=component_id, measurement_type=kind.value,
            timestamp_us=micros, value=number,
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
    if added is None:  # just written in this transaction
        raise RuntimeError("a measurement just written is not found")
    return AddedMeasurement(added, inserted=counts.inserted, overwritten=counts.overwritten)


def find_measurement(
    *, session: Session, component_id: int, measurement_type: object, timestamp: object
) -> MeasurementRecord | None:
    """The stored measurement with this key (the type and timestamp read as ``add_measurement``
    reads them), or ``None``."""
    try:
        kind = parse_choice(measurement_type, MeasurementType)
        if isinstance(timestamp, datetime):
            micros = to_micros(timestamp)
        elif isinstance(timestamp, str):
            micros = parse_micros(timestamp)
        else:
            return None
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
            rows, schema={"timestamp_us": pl.Int64, "value": pl.Float64}, orient="row"
        ).select(
            pl.col("timestamp_us").cast(pl.Datetime("us", "UTC")).alias("timestamp"),
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
        schema={
            "value": pl.Float64,
            "min_value": pl.Float64,
            "max_value": pl.Float64,
            "sample_count": pl.Int64,
            "first_us": pl.Int64,
        },
        orient="row",
    ).select(
        pl.col("first_us").cast(pl.Datetime("us", "UTC")).alias("timestamp"),
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
    measurement_type: MeasurementType | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
    measurement_types: Collection[MeasurementType] = (),
) -> pl.DataFrame:
    """One page of raw measurements, newest first: timestamp, measurement_type, value (of
    ``measurement_type``, or of ``measurement_types``; every type when neither is given)."""
    check_page(offset, limit)
    kinds = [measurement_type] if measurement_type is not None else measurement_types
    query = raw_query(component_id, kinds, start, end)
    rows = session.execute(
        query.order_by(Measurement.timestamp_us.desc(), Measurement.measurement_type)
        .offset(offset)
        .limit(limit)
    ).all()
    return raw_frame(rows)
