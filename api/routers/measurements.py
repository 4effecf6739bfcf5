"""Measurements: add one, and read a component's series as JSON, CSV or Parquet.
See docs/reference.md#the-http-api."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.deps import Caller, CurrentActor, DatabaseDep, SessionDep, manager_caller
from api.schemas import MeasurementCreate, MeasurementOut
from api.small_bodies import SmallBodyRoute
from core.db import Database
from core.domain import MeasurementType
from core.errors import FieldProblem, InvalidInput
from core.grid.components import get_component
from core.measurements.measurements import AddedMeasurement, add_measurement
from core.measurements.raw_measurements import BATCH_ROWS
from core.measurements.series_reads import SCHEMA, downsampled_series, raw_series
from core.models import utc_now
from core.streamed_files import csv_chunks, json_chunks, parquet_chunks
from core.timestamps import BadTimestamp, parse_timestamp
from core.validation import choice_field

router = APIRouter(tags=["measurements"], route_class=SmallBodyRoute)

PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
# A downsampled read is made whole before it is sent, so its size is bounded; every
# measurement of any range streams instead (max_points left out).
MAX_POINTS = 100_000
MAX_POINTS_PROBLEM = (
    f"at most {MAX_POINTS:,} points per type; leave max_points out to stream every "
    "measurement of the range, or narrow it with start and end"
)


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


@router.post(
    "/measurements",
    response_model=MeasurementOut,
    status_code=201,
    responses={
        401: {"description": "no token, or one that is not honoured"},
        403: {"description": "only a manager may do that"},
        404: {"description": "no such component"},
        409: {"description": "the component already has this type of measurement then"},
        422: {"description": "a field breaks a rule; every problem is listed"},
    },
)
async def add_one(
    body: MeasurementCreate,
    caller: Annotated[Caller, Depends(manager_caller("add measurements"))],
    database: DatabaseDep,
    overwrite: Annotated[bool, Query(description="replace a stored value with this key")] = False,
) -> Response:
    # One thread-pool call reads the caller's user and writes, in one transaction; the answer
    # is serialised here once (FastAPI would validate the returned model again first).
    stored = await run_in_threadpool(write_one, database, caller, body, overwrite)
    return created(stored)


def created(stored: AddedMeasurement) -> Response:
    """The 201 answer: the stored measurement's JSON, serialised once."""
    return Response(
        MeasurementOut.of(stored.record).model_dump_json(),
        status_code=201,
        media_type="application/json",
    )


def write_one(
    database: Database,
    caller: Caller,
    body: MeasurementCreate,
    overwrite: bool,
    *,
    at_once: bool = False,
) -> AddedMeasurement:
    """The measurement written in one transaction that also reads the caller. ``at_once``:
    on SQLite, ``BusyDatabase`` at once if another writer holds the lock (``single_post``,
    on the event loop)."""
    timestamp: object = body.timestamp if body.timestamp is not None else utc_now()
    with database.write_at_once() if at_once else database.write() as session:
        return add_measurement(
            session=session,
            actor=caller.actor(session),
            component_id=body.component_id,
            measurement_type=body.measurement_type,
            timestamp=timestamp,
            value=body.value,
            overwrite=overwrite,
        )


def _moment(name: str, text: str | None) -> Any:
    if text is None or not text.strip():
        return None
    try:
        return parse_timestamp(text.strip())
    except BadTimestamp as error:
        raise InvalidInput([FieldProblem(name, str(error))]) from None


def _format(asked: Format | None, accept: str | None) -> Format:
    if asked is not None:
        return asked
    accepted = (accept or "").lower()
    if "text/csv" in accepted:
        return Format.CSV
    if any(kind in accepted for kind in PARQUET_TYPES):
        return Format.PARQUET
    return Format.JSON


@router.get(
    "/components/{component_id}/measurements",
    responses={
        200: {
            "description": "rows of timestamp, measurement_type, value, min_value, max_value, "
            "sample_count (raw rows: min = max = value, count 1), streamed",
            "content": {"text/csv": {}, PARQUET_TYPES[0]: {}},
        },
        401: {"description": "no token, or one that is not honoured"},
        404: {"description": "no such component"},
        422: {"description": "a bad type, timestamp, range or max_points"},
    },
)
def read_measurements(
    component_id: int,
    _actor: CurrentActor,
    session: SessionDep,
    database: DatabaseDep,
    measurement_type: Annotated[
        str | None, Query(description="voltage, current or power; left out: all three")
    ] = None,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    max_points: Annotated[
        int | None,
        Query(
            ge=1,
            description="downsample to at most this many points per type, as the chart does "
            f"(mean, min, max and count per time bucket; 1 to {MAX_POINTS:,}); left out: "
            "every measurement, streamed",
        ),
    ] = None,
    format: Annotated[Format | None, Query(description="wins over the Accept header")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """A component's measurements in [start, end), raw or downsampled to `max_points`. Raw
    rows are streamed as they are read, so the answer may be of any length."""
    get_component(session=session, component_id=component_id)
    kinds = list(MeasurementType)
    if measurement_type is not None and measurement_type.strip():
        kinds = [choice_field("measurement_type", measurement_type, MeasurementType)]
    low, high = _moment("start", start), _moment("end", end)
    if low is not None and high is not None and low >= high:
        raise InvalidInput([FieldProblem("end", "must be after start")])
    if max_points is not None and max_points > MAX_POINTS:
        raise InvalidInput([FieldProblem("max_points", MAX_POINTS_PROBLEM)])
    if max_points is None:
        raw_count, batches = raw_series(
            database=database, session=session, component_id=component_id, kinds=kinds,
            start=low, end=high,
        )  # fmt: skip
        downsampled = False
    else:
        frames, raw_count, downsampled = downsampled_series(
            session=session, component_id=component_id, kinds=kinds, start=low, end=high,
            max_points=max_points,
        )  # fmt: skip
        batches = (part for frame in frames for part in frame.iter_slices(BATCH_ROWS))
    headers = {"X-Raw-Count": str(raw_count), "X-Downsampled": str(downsampled).lower()}
    chosen = _format(format, accept)
    if chosen is Format.PARQUET:
        chunks = parquet_chunks(batches, SCHEMA)
        return StreamingResponse(chunks, media_type=PARQUET_TYPES[0], headers=headers)
    texts = (
        batch.with_columns(pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"))
        for batch in batches
    )
    if chosen is Format.CSV:
        headers["Content-Disposition"] = (
            f'attachment; filename="component-{component_id}-measurements.csv"'
        )
        return StreamingResponse(csv_chunks(texts, SCHEMA), media_type="text/csv", headers=headers)
    return StreamingResponse(json_chunks(texts), media_type="application/json", headers=headers)
