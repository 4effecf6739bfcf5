"""A component's series as the API asks for it: the query's rules, then every raw
measurement read a batch at a time while it is sent, or each type downsampled.
See docs/architecture.md#reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.db import Database
from core.domain import MeasurementType
from core.errors import FieldProblem, InvalidInput
from core.grid.components import get_component
from core.measurements.measurements import SERIES_SCHEMA, read_series, series_bounds
from core.measurements.raw_measurements import BATCH_ROWS, raw_batches, raw_count, raw_query
from core.models import Measurement
from core.timestamps import ONE_MICROSECOND, BadTimestamp, parse_timestamp
from core.validation import choice_field

# SERIES_SCHEMA with each row's type after its time: what the API answers, raw or not.
SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "timestamp": SERIES_SCHEMA["timestamp"],
    "measurement_type": pl.String,
    **{name: dtype for name, dtype in SERIES_SCHEMA.items() if name != "timestamp"},
}
# A downsampled read is made whole before it is sent, so its size is bounded; every
# measurement of any range streams instead (max_points left out).
MAX_POINTS = 100_000
MAX_POINTS_PROBLEM = (
    f"at most {MAX_POINTS:,} points per type; leave max_points out to stream every "
    "measurement of the range, or narrow it with start and end"
)


@dataclass(frozen=True, slots=True)
class SeriesRead:
    """A read of a component's series: how many raw measurements the range holds, whether
    any type was downsampled, and the rows in ``SCHEMA``, a batch at a time."""

    raw_count: int
    downsampled: bool
    batches: Iterator[pl.DataFrame]


def _moment(name: str, text: str | None) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_timestamp(text.strip())
    except BadTimestamp as error:
        raise InvalidInput([FieldProblem(name, str(error))]) from None


@dataclass(frozen=True, slots=True)
class SeriesAsk:
    """What a series read is asked for, checked: its types, its range, its points."""

    kinds: list[MeasurementType]
    start: datetime | None
    end: datetime | None
    max_points: int | None


def ask_series(
    *,
    measurement_type: str | None = None,
    start: str | None = None,
    end: str | None = None,
    max_points: int | None = None,
) -> SeriesAsk:
    """A series asked for in text (the API's query): of one type (any case; left out or
    blank: every type), from and to ISO 8601 instants (left out: the series' first and
    last), raw (``max_points`` None) or at most ``max_points`` (up to ``MAX_POINTS``) per
    type. A bad type, time or range, or too many points, is ``InvalidInput``; reads
    nothing."""
    kinds = list(MeasurementType)
    if measurement_type is not None and measurement_type.strip():
        kinds = [choice_field("measurement_type", measurement_type, MeasurementType)]
    low, high = _moment("start", start), _moment("end", end)
    if low is not None and high is not None and low >= high:
        raise InvalidInput([FieldProblem("end", "must be after start")])
    if max_points is not None and max_points > MAX_POINTS:
        raise InvalidInput([FieldProblem("max_points", MAX_POINTS_PROBLEM)])
    return SeriesAsk(kinds, low, high, max_points)


def read_component_series(
    *,
    database: Database,
    session: Session,
    component_id: int,
    measurement_type: str | None = None,
    start: str | None = None,
    end: str | None = None,
    max_points: int | None = None,
) -> SeriesRead:
    """``read_asked_series`` of ``ask_series`` (the query's refusals first)."""
    asked = ask_series(
        measurement_type=measurement_type, start=start, end=end, max_points=max_points
    )
    return read_asked_series(
        database=database, session=session, component_id=component_id, asked=asked
    )


def read_asked_series(
    *, database: Database, session: Session, component_id: int, asked: SeriesAsk
) -> SeriesRead:
    """A component's measurements in [start, end) as ``asked``: raw rows streamed (any
    length) or each type downsampled. An unknown component is refused before a row is
    read."""
    get_component(session=session, component_id=component_id)
    kinds, low, high, max_points = asked.kinds, asked.start, asked.end, asked.max_points
    if max_points is None:
        count, batches = raw_series(
            database=database, session=session, component_id=component_id, kinds=kinds,
            start=low, end=high,
        )  # fmt: skip
        return SeriesRead(count, False, batches)
    frames, count, downsampled = downsampled_series(
        session=session, component_id=component_id, kinds=kinds, start=low, end=high,
        max_points=max_points,
    )  # fmt: skip
    return SeriesRead(
        count, downsampled, (part for frame in frames for part in frame.iter_slices(BATCH_ROWS))
    )


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
