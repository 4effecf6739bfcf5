"""Reports: queue one, list them, read one (its status, or its tables), cancel one, and
download its tables exactly as the dashboard does. See docs/reference.md#the-http-api."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import Caller, DatabaseDep, Reader, SessionDep, manager
from api.errors import NO_TOKEN, NOT_A_MANAGER, Answers
from api.schemas import ReportCreate, ReportDetail, ReportOut
from api.small_bodies import SmallBodyRoute
from core.errors import FieldProblem, InvalidInput, UnknownReference
from core.grid.components import PAGE_RANGE
from core.models import ID_RANGE
from core.reports import kpis
from core.reports.compute import check_time_zone
from core.reports.export import report_zip, table_csv
from core.reports.jobs import (
    ReportStatus,
    UnknownReport,
    cancel_report,
    get_report,
    get_report_tables,
    list_reports,
    marked_tables,
    request_report,
)
from core.reports.periods import period_moment
from core.timestamps import BadTimestamp

router = APIRouter(prefix="/reports", tags=["reports"], route_class=SmallBodyRoute)

# The inventory tables go under "summary"; every other table of a report is a list of rows
# under its own name (daily_averages, and any table a report gains later).
SUMMARY_TABLES = kpis.INVENTORY_TABLES
READ_ANSWERS: Answers = {**NO_TOKEN, 404: {"description": "no such report"}}


def _cell(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _rows(frame: pl.DataFrame) -> list[dict[str, object]]:
    return [
        {key: _cell(value) for key, value in row.items()} for row in frame.iter_rows(named=True)
    ]


def result_json(tables: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """A completed report's tables as JSON: the numbers of its CSV files."""
    result: dict[str, Any] = {
        "summary": {name: _rows(tables[name]) for name in SUMMARY_TABLES if name in tables}
    }
    for name, frame in tables.items():
        if name not in SUMMARY_TABLES:
            result[name] = _rows(frame)
    return result


def _moment(name: str, text: str, time_zone: str) -> dt.datetime:
    try:
        return period_moment(text, time_zone=time_zone)
    except BadTimestamp as error:
        raise InvalidInput([FieldProblem(name, str(error))]) from None


@router.post(
    "",
    response_model=ReportOut,
    status_code=202,
    responses={
        **NO_TOKEN,
        **NOT_A_MANAGER,
        422: {"description": "a bad period or time zone"},
    },
)
def create(
    body: ReportCreate,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(manager("generate reports"))],
    database: DatabaseDep,
) -> ReportOut:
    """Queue a report over [start_date, end_date) with days in `time_zone`; it answers at once
    (status `pending`) with a `Location` to poll. A date alone is midnight in `time_zone`, a
    date and time without an offset that zone's wall clock; one with an offset keeps it."""
    problems: list[FieldProblem] = []
    try:
        time_zone = check_time_zone(body.time_zone)
    except InvalidInput as error:
        problems.extend(error.problems)
        time_zone = "UTC"  # the dates are still checked, so one answer names every problem
    moments: dict[str, dt.datetime] = {}
    for name in ("start_date", "end_date"):
        try:
            moments[name] = _moment(name, getattr(body, name), time_zone)
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems)
    with database.write() as session:
        record = request_report(
            session=session,
            actor=caller.actor(session),
            start=moments["start_date"],
            end=moments["end_date"],
            time_zone=time_zone,
        )
    runner = request.app.state.runner
    if runner is not None:
        runner.wake()
    response.headers["Location"] = f"/reports/{record.id}"
    return ReportOut.of(record)


@router.get("", response_model=list[ReportOut], responses=READ_ANSWERS)
def list_all(
    caller: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, lt=PAGE_RANGE.stop)] = 0,
) -> list[ReportOut]:
    """Reports, newest first."""
    caller.actor(session)
    return [
        ReportOut.of(record) for record in list_reports(session=session, offset=offset, limit=limit)
    ]


def known_report_id(report_id: int) -> int:
    if report_id not in ID_RANGE:
        raise UnknownReport(report_id)
    return report_id


TABLE_ANSWERS: dict[int | str, dict[str, Any]] = {
    **READ_ANSWERS,
    409: {"description": "the report is not completed"},
}


@router.get(
    "/{report_id}/tables/{name}.csv",
    response_class=Response,
    responses={**TABLE_ANSWERS, 200: {"content": {"text/csv": {}}}},
)
def table_file(report_id: int, name: str, caller: Reader, session: SessionDep) -> Response:
    """One table as CSV: the bytes of the dashboard's download."""
    caller.actor(session)
    record = get_report(session=session, report_id=known_report_id(report_id))
    tables = marked_tables(record, get_report_tables(session=session, report_id=record.id))
    if name not in tables:
        raise UnknownReference(
            f"report {report_id} has no table {name!r}; it has {', '.join(tables)}"
        )
    return Response(
        table_csv(tables[name]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "/{report_id}.zip",
    response_class=Response,
    responses={**TABLE_ANSWERS, 200: {"content": {"application/zip": {}}}},
)
def zip_file(report_id: int, caller: Reader, session: SessionDep) -> Response:
    """Every table and report.json in one zip: the bytes of the dashboard's download."""
    caller.actor(session)
    record = get_report(session=session, report_id=known_report_id(report_id))
    tables = marked_tables(record, get_report_tables(session=session, report_id=record.id))
    return Response(
        report_zip(tables, record.metadata()),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="gridboard-report-{record.id}.zip"'},
    )


@router.get("/{report_id}", response_model=ReportDetail, responses=READ_ANSWERS)
def read_one(report_id: int, caller: Reader, session: SessionDep) -> ReportDetail:
    """The report's status at any time; once completed, its tables in `result_json`."""
    caller.actor(session)
    record = get_report(session=session, report_id=known_report_id(report_id))
    detail = ReportDetail.model_validate(record, from_attributes=True)
    if record.status is ReportStatus.COMPLETED:
        tables = get_report_tables(session=session, report_id=record.id)
        detail.result_json = result_json(marked_tables(record, tables))
    return detail


@router.delete(
    "/{report_id}",
    response_model=ReportOut,
    responses={
        **READ_ANSWERS,
        **NOT_A_MANAGER,
        409: {"description": "the report already finished"},
    },
)
def cancel(
    report_id: int,
    caller: Annotated[Caller, Depends(manager("cancel reports"))],
    database: DatabaseDep,
) -> ReportOut:
    """Cancel a pending or running report."""
    with database.write() as session:
        actor = caller.actor(session)
        record = cancel_report(session=session, actor=actor, report_id=known_report_id(report_id))
    return ReportOut.of(record)
