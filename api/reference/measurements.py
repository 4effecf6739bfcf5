"""``/b/measurements``: add one reading, through the same write as ``POST /measurements``.
See docs/reference.md#moving-from-the-reference-service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import Caller, DatabaseDep, manager
from api.reference.route import ReferenceRoute, as_validation_errors
from api.reference.schemas import MeasurementCreate, MeasurementResponse
from api.routers.measurements import write_one
from api.schemas import MeasurementCreate as CoreMeasurement

router = APIRouter(prefix="/measurements", route_class=ReferenceRoute)


@router.post("", response_model=MeasurementResponse, status_code=201)
async def add_one(
    body: MeasurementCreate,
    caller: Annotated[Caller, Depends(manager("add measurements"))],
    database: DatabaseDep,
) -> Response:
    given = body.model_dump(mode="json")
    wanted = CoreMeasurement(**(given | {"measurement_type": body.measurement_type.lower()}))
    with as_validation_errors(given):
        stored = await run_in_threadpool(write_one, database, caller, wanted, False)
    return Response(
        MeasurementResponse.of(stored.record).model_dump_json(),
        status_code=201,
        media_type="application/json",
    )
