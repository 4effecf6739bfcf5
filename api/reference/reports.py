"""``/b/reports``: queue one, list every one (newest id first), and read one: 409 until it is
completed, then its four tables in the reference's ``result_json``.
See docs/reference.md#moving-from-the-reference-service."""

from __future__ import annotations

from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.reference.route import ReferenceRoute, as_validation_errors
from api.reference.schemas import (
    FinalReportSchema,
    ReportDetailResponse,
    ReportRequest,
    ReportResponse,
    reference_status,
)
from api.routers.reports import create as queue_report
from api.routers.reports import known_report_id
from api.schemas import ReportCreate
from core.reports import kpis
from core.reports.jobs import ReportStatus, get_report, get_report_tables, list_reports

router = APIRouter(prefix="/reports", route_class=ReferenceRoute)
NOT_READY = "Report is not ready yet"


@router.post("", response_model=ReportResponse, status_code=202)
def create(
    body: ReportRequest,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(manager("generate reports"))],
    database: DatabaseDep,
) -> ReportResponse:
    """Days in UTC, as the reference's; the same checks of the period as ``POST /reports``."""
    given = body.model_dump()
    with as_validation_errors(given):
        queued = queue_report(ReportCreate(**given), request, response, caller, database)
    response.headers["Location"] = f"/b/reports/{queued.id}"
    return ReportResponse(
        id=queued.id,
        status="pending",
        created_at=queued.created_at,
        start_date=queued.start_date,
        end_date=queued.end_date,
    )


@router.get("", response_model=list[ReportResponse])
def list_all(caller: Reader, session: SessionDep) -> list[ReportResponse]:
    """Every report, newest id first, as the reference lists them (no pages)."""
    caller.actor(session)
    found = sorted(list_reports(session=session, limit=None), key=lambda r: r.id, reverse=True)
    return [ReportResponse.of(record) for record in found]


@router.get(
    "/{id}", response_model=ReportDetailResponse, responses={409: {"description": NOT_READY}}
)
def read_one(id: int, caller: Reader, session: SessionDep) -> Any:
    """409 until the report is completed (a failed one says why); then its tables."""
    caller.actor(session)
    record = get_report(session=session, report_id=known_report_id(id))
    if record.status in (ReportStatus.PENDING, ReportStatus.RUNNING):
        return JSONResponse({"detail": NOT_READY}, status_code=409)
    if record.status is not ReportStatus.COMPLETED:
        reason = f"Report is {reference_status(record)}; it will never be ready"
        return JSONResponse({"detail": reason}, status_code=409)
    tables = get_report_tables(session=session, report_id=record.id)
    return ReportDetailResponse(
        **ReportResponse.of(record).model_dump(), result_json=final_report(tables)
    )


def _upper(column: str) -> pl.Expr:
    return pl.col(column).str.to_uppercase()


def final_report(tables: dict[str, pl.DataFrame]) -> FinalReportSchema:
    """The reference's four tables from GridBoard's: its columns, upper-case enumerations,
    daily averages by day then component type."""
    daily = (
        tables[kpis.DAILY_AVERAGES]
        .select("day", _upper("measurement_type"), _upper("component_type"), "avg_value")
        .sort("day", "component_type", "measurement_type")
    )
    return FinalReportSchema.model_validate(
        {
            "summary": {
                "components_by_type": tables[kpis.COMPONENTS_BY_TYPE]
                .select(_upper("component_type"), "count")
                .to_dicts(),
                "transformer_capacity_by_voltage": tables[kpis.TRANSFORMER_CAPACITY]
                .select("voltage_kv", "total_capacity_mva")
                .to_dicts(),
                "line_length_by_voltage": tables[kpis.LINE_LENGTH]
                .select("voltage_kv", "total_length_km")
                .to_dicts(),
            },
            "daily_averages": daily.to_dicts(),
        }
    )
