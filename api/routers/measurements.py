"""Measurements: add one, delete one or a range, and read a component's series as JSON, CSV or
Parquet. See docs/reference.md#the-http-api."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.errors import BROKEN_RULE, NO_TOKEN, NOT_A_MANAGER
from api.schemas import MeasurementCreate, MeasurementOut, MeasurementsDeleted
from api.small_bodies import SmallBodyRoute
from core.db import Database
from core.measurements.deletions import (
    delete_measurement,
    delete_measurements,
    measurement_range,
)
from core.measurements.measurements import AddedMeasurement, add_measurement
from core.measurements.series_reads import MAX_POINTS, SCHEMA, ask_series, read_asked_series
from core.models import utc_now
from core.streamed_files import csv_chunks, json_chunks, parquet_chunks

router = APIRouter(tags=["measurements"], route_class=SmallBodyRoute)

PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


@router.post(
    "/measurements",
    response_model=MeasurementOut,
    status_code=201,
    responses={
        **NO_TOKEN,
        **NOT_A_MANAGER,
        404: {"description": "no such component"},
        409: {"description": "the component already has this type of measurement then"},
        **BROKEN_RULE,
    },
)
async def add_one(
    body: MeasurementCreate,
    caller: Annotated[Caller, Depends(manager("add measurements"))],
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
        **NO_TOKEN,
        404: {"description": "no such component"},
        422: {"description": "a bad type, timestamp, range or max_points"},
    },
)
def read_measurements(
    component_id: int,
    caller: Reader,
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
    asked = ask_series(
        measurement_type=measurement_type, start=start, end=end, max_points=max_points
    )
    caller.actor(session)
    read = read_asked_series(
        database=database, session=session, component_id=component_id, asked=asked
    )
    headers = {
        "X-Raw-Count": str(read.raw_count),
        "X-Downsampled": str(read.downsampled).lower(),
    }
    chosen = _format(format, accept)
    if chosen is Format.PARQUET:
        chunks = parquet_chunks(read.batches, SCHEMA)
        return StreamingResponse(chunks, media_type=PARQUET_TYPES[0], headers=headers)
    if chosen is Format.CSV:
        headers["Content-Disposition"] = (
            f'attachment; filename="component-{component_id}-measurements.csv"'
        )
        return StreamingResponse(
            csv_chunks(read.batches, SCHEMA), media_type="text/csv", headers=headers
        )
    return StreamingResponse(
        json_chunks(read.batches), media_type="application/json", headers=headers
    )


@router.delete(
    "/measurements/{measurement_id}",
    status_code=204,
    response_class=Response,
    responses={**NO_TOKEN, **NOT_A_MANAGER, 404: {"description": "no such measurement"}},
)
def delete_one(
    measurement_id: int,
    caller: Annotated[Caller, Depends(manager("delete measurements"))],
    database: DatabaseDep,
) -> Response:
    """Delete one measurement (the id `POST /measurements` answered); audited."""
    with database.write() as session:
        actor = caller.actor(session)
        delete_measurement(session=session, actor=actor, measurement_id=measurement_id)
    return Response(status_code=204)


@router.delete(
    "/components/{component_id}/measurements",
    response_model=MeasurementsDeleted,
    responses={
        **NO_TOKEN,
        **NOT_A_MANAGER,
        404: {"description": "no such component"},
        422: {"description": "a bad type or timestamp, a missing one, or end not after start"},
    },
)
def delete_range(
    component_id: int,
    caller: Annotated[Caller, Depends(manager("delete measurements"))],
    database: DatabaseDep,
    measurement_type: Annotated[str, Query(description="voltage, current or power")],
    start: Annotated[str, Query(description="ISO 8601, inclusive")],
    end: Annotated[str, Query(description="ISO 8601, exclusive")],
) -> MeasurementsDeleted:
    """Delete a component's measurements of one type in [start, end); audited. The
    aggregates that reports read are kept exact."""
    start, end = start.strip(), end.strip()
    measurement_range(measurement_type, start, end)  # the query's 422 before the caller's 401
    with database.write() as session:
        deleted = delete_measurements(
            session=session, actor=caller.actor(session), component_id=component_id,
            measurement_type=measurement_type, start=start, end=end,
        )  # fmt: skip
    return MeasurementsDeleted(deleted=deleted)
