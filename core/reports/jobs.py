"""The report job lifecycle: pending -> running -> completed | failed (or cancelled).

A request stores a ``pending`` row and returns at once. Runners (a thread in each app process,
or ``gridboard worker`` processes) claim the oldest claimable report atomically: ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite. A claim is a lease that the runner
renews while it computes; a report whose runner died is claimable again once its lease
expires, and after ``MAX_ATTEMPTS`` claims it fails instead of crashing runners forever.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core import logs
from core.db import Database
from core.domain import Actor, require_manager
from core.errors import GridBoardError, NotFound
from core.models import Report, utc_now
from core.reports import kpis
from core.reports.compute import check_period, check_time_zone, compute_report
from core.reports.export import read_table_csv, table_csv

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0
MAX_ATTEMPTS = 3


class ReportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (ReportStatus.PENDING.value, ReportStatus.RUNNING.value)


class ReportNotFound(NotFound):
    def __init__(self, report_id: int) -> None:
        self.report_id = report_id
        super().__init__(f"report {report_id} does not exist")


class ReportNotReady(GridBoardError):
    def __init__(self, report_id: int, status: str) -> None:
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {report_id} is {status}; only a completed report has tables")


class ReportFinished(GridBoardError):
    def __init__(self, report_id: int, status: str) -> None:
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {report_id} is already {status} and cannot be cancelled")


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
    check_period(start, end)
    zone = check_time_zone(time_zone)
    row = Report(
        status=ReportStatus.PENDING.value,
        period_start=start,
        period_end=end,
        time_zone=zone,
        requested_by=actor.username,
    )
    session.add(row)
    session.flush()
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


def list_reports(*, session: Session, offset: int = 0, limit: int = 100) -> list[ReportRecord]:
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


def _row(session: Session, report_id: int) -> Report:
    row = session.get(Report, report_id)
    if row is None:
        raise ReportNotFound(report_id)
    return row


def get_report(*, session: Session, report_id: int) -> ReportRecord:
    return ReportRecord.of(_row(session, report_id))


def get_report_tables(*, session: Session, report_id: int) -> dict[str, pl.DataFrame]:
    """The four tables of a completed report, exactly as they were computed."""
    row = _row(session, report_id)
    if row.status != ReportStatus.COMPLETED.value or row.result_json is None:
        raise ReportNotReady(report_id, row.status)
    stored = json.loads(row.result_json)["tables"]
    return {name: read_table_csv(name, stored[name]) for name in kpis.TABLES}


def cancel_report(*, session: Session, actor: Actor, report_id: int) -> ReportRecord:
    """Cancel a pending or running report; a runner that finishes it later discards it."""
    started = time.perf_counter()
    require_manager(actor, "cancel reports")
    row = _row(session, report_id)
    if row.status not in ACTIVE:
        raise ReportFinished(report_id, row.status)
    row.status = ReportStatus.CANCELLED.value
    row.finished_at = utc_now()
    row.error = f"cancelled by {actor.username}"
    row.lease_expires_at = None
    session.flush()
    logs.on_commit(
        session, "report.cancelled", user=actor.username, started=started, report_id=report_id
    )
    return ReportRecord.of(row)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_next(
    *,
    session: Session,
    worker_id: str,
    lease_seconds: float = LEASE_SECONDS,
    report_id: int | None = None,
) -> int | None:
    """Claim the oldest pending report (or one whose lease expired); ``None`` when idle."""
    started = time.perf_counter()
    now = utc_now()
    claimable = or_(
        Report.status == ReportStatus.PENDING.value,
        (Report.status == ReportStatus.RUNNING.value) & (Report.lease_expires_at < now),
    )
    query = select(Report).where(claimable)
    if report_id is not None:
        query = query.where(Report.id == report_id)
    row = session.scalars(
        query.order_by(Report.created_at, Report.id).limit(1).with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = ReportStatus.FAILED.value
        row.finished_at = now
        row.error = (
            f"gave up after {row.attempts} attempts: the process computing it stopped each "
            "time (out of memory or killed?); check the worker logs, then request it again"
        )
        row.lease_expires_at = None
        session.flush()
        logs.on_commit(
            session,
            "report.failed",
            user=row.requested_by,
            started=started,
            report_id=row.id,
            worker=worker_id,
            attempts=row.attempts,
            error="gave up: its runner stopped on every attempt",
        )
        return claim_next(session=session, worker_id=worker_id, lease_seconds=lease_seconds)
    row.status = ReportStatus.RUNNING.value
    row.claimed_by = worker_id
    row.started_at = now
    row.finished_at = None
    row.lease_expires_at = now + timedelta(seconds=lease_seconds)
    row.attempts += 1
    session.flush()
    logs.on_commit(
        session,
        "report.claimed",
        user=row.requested_by,
        started=started,
        report_id=row.id,
        worker=worker_id,
        attempt=row.attempts,
    )
    return row.id


def _still_ours(report_id: int, worker_id: str) -> Any:
    return (
        (Report.id == report_id)
        & (Report.claimed_by == worker_id)
        & (Report.status == ReportStatus.RUNNING.value)
    )


def renew_lease(
    database: Database, report_id: int, worker_id: str, lease_seconds: float = LEASE_SECONDS
) -> bool:
    with database.write() as session:
        result = session.execute(
            update(Report)
            .where(_still_ours(report_id, worker_id))
            .values(lease_expires_at=utc_now() + timedelta(seconds=lease_seconds))
        )
        return bool(getattr(result, "rowcount", 0))


def _describe_failure(error: BaseException) -> str:
    if isinstance(error, GridBoardError):
        return str(error)
    return (
        f"internal error while computing ({type(error).__name__}: {error}); "
        "request the report again, and if it fails again tell the administrator"
    )


def run_claimed(
    database: Database, report_id: int, worker_id: str, *, lease_seconds: float = LEASE_SECONDS
) -> ReportStatus:
    """Compute a claimed report and store its outcome; renew the lease meanwhile."""
    with database.read() as session:
        row = _row(session, report_id)
        start, end, zone = row.period_start, row.period_end, row.time_zone
        requested_by = row.requested_by
    stop_heartbeat = threading.Event()

    def heartbeat() -> None:
        while not stop_heartbeat.wait(lease_seconds / 3):
            try:
                renew_lease(database, report_id, worker_id, lease_seconds)
            except Exception:  # the next beat, or the final write, will tell
                log.warning("could not renew the lease of report %s", report_id, exc_info=True)

    beat = threading.Thread(target=heartbeat, name=f"report-{report_id}-lease", daemon=True)
    beat.start()
    began = time.perf_counter()
    outcome: dict[str, Any]
    rows_read: dict[str, int] = {}
    try:
        with database.read() as session:
            computed = compute_report(session, start=start, end=end, time_zone=zone)
        rows_read = {"rollup_rows": computed.rollup_rows, "raw_rows": computed.raw_rows}
        payload = {
            "tables": {
                name: table_csv(computed.tables[name]).decode("utf-8") for name in kpis.TABLES
            },
            "provenance": {"rollup_rows": computed.rollup_rows, "raw_rows": computed.raw_rows},
        }
        outcome = {
            "status": ReportStatus.COMPLETED.value,
            "result_json": json.dumps(payload, sort_keys=True),
            "error": None,
        }
    except Exception as error:
        log.exception("report %s failed", report_id)
        outcome = {
            "status": ReportStatus.FAILED.value,
            "result_json": None,
            "error": _describe_failure(error),
        }
    finally:
        stop_heartbeat.set()
        beat.join()
    with database.write() as session:
        result = session.execute(
            update(Report)
            .where(_still_ours(report_id, worker_id))
            .values(finished_at=utc_now(), lease_expires_at=None, **outcome)
        )
        stored = bool(getattr(result, "rowcount", 0))
    failed = outcome["status"] == ReportStatus.FAILED.value
    logs.record(
        f"report.{outcome['status']}" if stored else "report.discarded",
        user=requested_by,
        started=began,
        outcome="ok" if stored and not failed else ("failed" if stored else "discarded"),
        level=logging.WARNING if failed or not stored else logging.INFO,
        report_id=report_id,
        worker=worker_id,
        error=outcome["error"],
        **rows_read,
    )
    if not stored:
        with database.read() as session:
            return ReportStatus(_row(session, report_id).status)
    return ReportStatus(outcome["status"])


def run_next(
    database: Database, worker_id: str, *, lease_seconds: float = LEASE_SECONDS
) -> int | None:
    """Claim and compute one report; the id it ran, or ``None`` when nothing was waiting."""
    with database.write() as session:
        report_id = claim_next(session=session, worker_id=worker_id, lease_seconds=lease_seconds)
    if report_id is None:
        return None
    run_claimed(database, report_id, worker_id, lease_seconds=lease_seconds)
    return report_id


def run_report_now(
    database: Database, *, actor: Actor, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ReportRecord:
    """Request a report and compute it in this process (the CLI's ``report`` command)."""
    worker_id = new_worker_id()
    with database.write() as session:
        record = request_report(
            session=session, actor=actor, start=start, end=end, time_zone=time_zone
        )
        claim_next(session=session, worker_id=worker_id, report_id=record.id)
    run_claimed(database, record.id, worker_id)
    with database.read() as session:
        return get_report(session=session, report_id=record.id)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_orphans(database: Database) -> list[int]:
    """Make reports claimed by dead processes on this host claimable again at once.

    Runners on other hosts are recovered when their lease expires.
    """
    host = socket.gethostname()
    released: list[int] = []
    with database.write() as session:
        running = session.scalars(
            select(Report).where(
                Report.status == ReportStatus.RUNNING.value,
                Report.claimed_by.startswith(f"{host}:"),
            )
        )
        for row in running:
            _, _, rest = (row.claimed_by or "").partition(":")
            pid_text = rest.partition(":")[0]
            if pid_text.isdigit() and not _process_alive(int(pid_text)):
                row.lease_expires_at = utc_now() - timedelta(seconds=1)
                released.append(row.id)
    if released:
        logs.record(
            "report.released",
            user=None,
            outcome="requeued",
            level=logging.WARNING,
            report_ids=released,
            reason="the process running them died",
        )
    return released


class ReportRunner:
    """A background thread that runs queued reports for one process (the app, a worker)."""

    def __init__(
        self, database: Database, *, poll_seconds: float = 2.0, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.worker_id = new_worker_id()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ReportRunner:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self.run_forever, name="gridboard-report-runner", daemon=True
            )
            self._thread.start()
        return self

    def wake(self) -> None:
        """Look for work now (a report was just requested in this process)."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Finish the current report, then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        try:
            release_orphans(self.database)
        except Exception:
            log.exception("could not look for orphaned reports")
        while not self._stop.is_set():
            try:
                ran = run_next(self.database, self.worker_id, lease_seconds=self.lease_seconds)
            except Exception:
                log.exception("report runner %s could not claim work", self.worker_id)
                ran = None
            if ran is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
