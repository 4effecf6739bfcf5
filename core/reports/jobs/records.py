"""Report records and what users ask of them: request, list, get, read the tables, cancel,
delete. See docs/architecture.md#reports."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import logs
from core.domain import Actor, require_manager
from core.errors import UncancellableReport, UndeletableReport, UnfinishedReport, UnknownReport
from core.models import Report, utc_now
from core.reports import kpis
from core.reports.compute import check_period, check_time_zone
from core.reports.export import read_table_csv
from core.reports.periods import mark_partial_days, partial_days

# PostgreSQL: runners LISTEN here, and whatever makes a report claimable NOTIFYs (at commit),
# so an idle runner starts at once instead of at its next poll.
NOTIFY_CHANNEL = "gridboard_reports"


class ReportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (ReportStatus.PENDING.value, ReportStatus.RUNNING.value)


def announce(session: Session) -> None:
    """Tell listening runners that a report is claimable, once this transaction commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


@dataclass(frozen=True, slots=True)
class ReportRecord:
    id: int
    status: ReportStatus
    period_start: datetime
    period_end: datetime
    time_zone: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    attempts: int

    @classmethod
    def of(cls, row: Report) -> ReportRecord:
        return cls(
            id=row.id,
            status=ReportStatus(row.status),
            period_start=row.period_start,
            period_end=row.period_end,
            time_zone=row.time_zone,
            requested_by=row.requested_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error,
            attempts=row.attempts,
        )

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "time_zone": self.time_zone,
            "requested_by": self.requested_by,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def request_report(
    *, session: Session, actor: Actor, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ReportRecord:
    """Queue a report over [start, end); a bad period or zone is refused now, not later."""
    started = time.perf_counter()
    require_manager(actor, "generate reports")
    zone = check_time_zone(time_zone)
    check_period(start, end, zone)
    row = Report(
        status=ReportStatus.PENDING.value,
        period_start=start,
        period_end=end,
        time_zone=zone,
        requested_by=actor.username,
    )
    session.add(row)
    session.flush()
    announce(session)
    logs.on_commit(
        session,
        "report.queued",
        user=actor.username,
        started=started,
        report_id=row.id,
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        time_zone=zone,
    )
    return ReportRecord.of(row)


def list_reports(
    *, session: Session, offset: int = 0, limit: int | None = 100
) -> list[ReportRecord]:
    """Reports, newest first; ``limit=None``: every one (the reference contract's list)."""
    rows = session.scalars(
        select(Report)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [ReportRecord.of(row) for row in rows]


def count_reports(*, session: Session, active_only: bool = False) -> int:
    query = select(func.count()).select_from(Report)
    if active_only:
        query = query.where(Report.status.in_(ACTIVE))
    return int(session.scalar(query) or 0)


def oldest_pending_since(*, session: Session) -> datetime | None:
    """When the report that has waited longest for a runner was requested; ``None`` when no
    report is pending."""
    return session.scalar(
        select(func.min(Report.created_at)).where(Report.status == ReportStatus.PENDING.value)
    )


def report_row(session: Session, report_id: int) -> Report:
    row = session.get(Report, report_id)
    if row is None:
        raise UnknownReport(report_id)
    return row


def get_report(*, session: Session, report_id: int) -> ReportRecord:
    return ReportRecord.of(report_row(session, report_id))


def get_report_tables(*, session: Session, report_id: int) -> dict[str, pl.DataFrame]:
    """The tables of a completed report, exactly as they were computed (a report computed
    before a table existed lacks it)."""
    row = report_row(session, report_id)
    if row.status != ReportStatus.COMPLETED.value or row.result_json is None:
        raise UnfinishedReport(report_id, row.status)
    stored = json.loads(row.result_json)["tables"]
    return {name: read_table_csv(name, stored[name]) for name in kpis.TABLES if name in stored}


def report_partial_days(record: ReportRecord) -> set[date]:
    """The local days ``record`` does not cover whole: cut by its period, or not over yet
    when it was computed."""
    return partial_days(
        record.period_start,
        record.period_end,
        time_zone=record.time_zone,
        computed_at=record.started_at,
    )


def marked_tables(record: ReportRecord, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """``record``'s tables as every download shows them (page, zip, CLI, API): each daily
    table marks its partial days in a ``partial_day`` column."""
    return mark_partial_days(tables, report_partial_days(record))


def cancel_report(*, session: Session, actor: Actor, report_id: int) -> ReportRecord:
    """Cancel a pending or running report; a runner that finishes it later discards it."""
    started = time.perf_counter()
    require_manager(actor, "cancel reports")
    # Locked, so a runner storing its result meanwhile waits and cannot be overwritten.
    row = session.get(Report, report_id, with_for_update=True)
    if row is None:
        raise UnknownReport(report_id)
    if row.status not in ACTIVE:
        raise UncancellableReport(report_id, row.status)
    row.status = ReportStatus.CANCELLED.value
    row.finished_at = utc_now()
    row.error = f"cancelled by {actor.username}"
    row.lease_expires_at = None
    session.flush()
    logs.on_commit(
        session, "report.cancelled", user=actor.username, started=started, report_id=report_id
    )
    return ReportRecord.of(row)


def delete_report(*, session: Session, actor: Actor, report_id: int) -> None:
    """Delete a finished report (completed, failed or cancelled) and its tables; a pending
    or running one must be cancelled first, so no runner is left computing it."""
    started = time.perf_counter()
    require_manager(actor, "delete reports")
    row = session.get(Report, report_id, with_for_update=True)
    if row is None:
        raise UnknownReport(report_id)
    if row.status in ACTIVE:
        raise UndeletableReport(report_id, row.status)
    status = row.status
    session.delete(row)
    session.flush()
    logs.on_commit(
        session,
        "report.delete",
        user=actor.username,
        started=started,
        report_id=report_id,
        status=status,
    )
