"""The report job lifecycle: pending -> running -> completed | failed (or cancelled).

A request stores a ``pending`` row and returns at once. Runners (a thread in each app process,
or ``gridboard worker`` processes) claim the oldest claimable report atomically: ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite. A claim is a lease that the runner
renews while it computes; a report whose runner died is claimable again once its lease
expires, and after ``MAX_ATTEMPTS`` claims it fails instead of crashing runners forever.

Every write a runner makes about its report is fenced by its claim (runner id and attempt
number): a runner that lost its lease (it stalled, another runner took the report over) can
neither renew nor store anything, so a report is stored once, by the runner that holds it. A
runner asked to stop finishes its report within a grace period or hands it back as ``pending``.
"""

from __future__ import annotations

import json
import logging
import os
import select as sockets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from core import logs
from core.db import Database
from core.domain import Actor, require_manager
from core.errors import DatabaseBusy, GridBoardError, NotFound
from core.models import Report, utc_now
from core.reports import LEASE_SECONDS, STOP_GRACE_SECONDS, kpis
from core.reports.compute import check_period, check_time_zone, compute_report
from core.reports.export import read_table_csv, table_csv

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# PostgreSQL: runners LISTEN here, and whatever makes a report claimable NOTIFYs (at commit),
# so an idle runner starts at once instead of at its next poll.
NOTIFY_CHANNEL = "gridboard_reports"


def _announce(session: Session) -> None:
    """Tell listening runners that a report is claimable, once this transaction commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


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


class ReportStillActive(GridBoardError):
    def __init__(self, report_id: int, status: str) -> None:
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {report_id} is {status}: cancel it before deleting it")


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
    _announce(session)
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


def oldest_pending_since(*, session: Session) -> datetime | None:
    """When the report that has waited longest for a runner was requested; ``None`` when no
    report is pending."""
    return session.scalar(
        select(func.min(Report.created_at)).where(Report.status == ReportStatus.PENDING.value)
    )


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
    # Locked, so a runner storing its result meanwhile waits and cannot be overwritten.
    row = session.get(Report, report_id, with_for_update=True)
    if row is None:
        raise ReportNotFound(report_id)
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


def delete_report(*, session: Session, actor: Actor, report_id: int) -> None:
    """Delete a finished report (completed, failed or cancelled) and its tables; a pending
    or running one is cancelled first, so no runner is left computing it."""
    started = time.perf_counter()
    require_manager(actor, "delete reports")
    row = session.get(Report, report_id, with_for_update=True)
    if row is None:
        raise ReportNotFound(report_id)
    if row.status in ACTIVE:
        raise ReportStillActive(report_id, row.status)
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


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Claim:
    """A runner's hold on a report: only writes naming its worker and attempt are accepted.

    It carries the request too, so a runner computes without reading the report again.
    """

    report_id: int
    worker_id: str
    attempt: int
    period_start: datetime
    period_end: datetime
    time_zone: str
    requested_by: str

    @classmethod
    def of(cls, row: Report, worker_id: str, attempt: int | None = None) -> Claim:
        return cls(
            report_id=row.id,
            worker_id=worker_id,
            attempt=row.attempts if attempt is None else attempt,
            period_start=row.period_start,
            period_end=row.period_end,
            time_zone=row.time_zone,
            requested_by=row.requested_by,
        )


def claim(
    *,
    session: Session,
    worker_id: str,
    lease_seconds: float = LEASE_SECONDS,
    report_id: int | None = None,
) -> Claim | None:
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
        return claim(session=session, worker_id=worker_id, lease_seconds=lease_seconds)
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
    return Claim.of(row, worker_id)


def _still_ours(held: Claim) -> Any:
    return (
        (Report.id == held.report_id)
        & (Report.claimed_by == held.worker_id)
        & (Report.attempts == held.attempt)
        & (Report.status == ReportStatus.RUNNING.value)
    )


def renew_lease(database: Database, held: Claim, lease_seconds: float = LEASE_SECONDS) -> bool:
    """Extend the lease; ``False`` when the report is no longer this claim's."""
    with database.write() as session:
        result = session.execute(
            update(Report)
            .where(_still_ours(held))
            .values(lease_expires_at=utc_now() + timedelta(seconds=lease_seconds))
        )
        return bool(getattr(result, "rowcount", 0))


def release_claim(database: Database, held: Claim) -> bool:
    """Hand a report back as ``pending`` (its runner is stopping); this attempt does not count
    towards ``MAX_ATTEMPTS``. ``False`` when the report was no longer this claim's."""
    with database.write() as session:
        result = session.execute(
            update(Report)
            .where(_still_ours(held))
            .values(
                status=ReportStatus.PENDING.value,
                claimed_by=None,
                started_at=None,
                lease_expires_at=None,
                attempts=Report.attempts - 1,
            )
        )
        released = bool(getattr(result, "rowcount", 0))
        if released:
            _announce(session)
    if released:
        logs.record(
            "report.released",
            user=None,
            outcome="requeued",
            level=logging.WARNING,
            report_ids=[held.report_id],
            worker=held.worker_id,
            attempt=held.attempt,
            reason="its runner was asked to stop before the report was done",
        )
    return released


def _describe_failure(error: BaseException) -> str:
    if isinstance(error, GridBoardError):
        return str(error)
    return (
        f"internal error while computing ({type(error).__name__}: {error}); "
        "request the report again, and if it fails again tell the administrator"
    )


def run_claimed(
    database: Database,
    report_id: int,
    worker_id: str,
    *,
    lease_seconds: float = LEASE_SECONDS,
    attempt: int | None = None,
) -> ReportStatus:
    """Compute a claimed report and store its outcome; renew the lease meanwhile.

    ``attempt`` is the claim's attempt number (default: the report's current one).
    """
    with database.read() as session:
        held = Claim.of(_row(session, report_id), worker_id, attempt)
    return run_held(database, held, lease_seconds=lease_seconds)


def run_held(
    database: Database,
    held: Claim,
    *,
    lease_seconds: float = LEASE_SECONDS,
    keep_lease: bool = True,
) -> ReportStatus:
    """Compute the report ``held`` names and store its outcome, if the claim still holds.

    With ``keep_lease`` a thread renews the lease meanwhile; a ``ReportRunner`` renews it
    from its own loop instead and passes ``False``.
    """
    report_id, worker_id = held.report_id, held.worker_id
    stop_heartbeat = threading.Event()

    def heartbeat() -> None:
        while not stop_heartbeat.wait(lease_seconds / 3):
            try:
                if not renew_lease(database, held, lease_seconds):
                    log.warning("report %s is no longer held by %s", report_id, worker_id)
                    return
            except Exception:  # the next beat, or the final write, will tell
                log.warning("could not renew the lease of report %s", report_id, exc_info=True)

    beat = None
    if keep_lease:
        beat = threading.Thread(target=heartbeat, name=f"report-{report_id}-lease", daemon=True)
        beat.start()
    began = time.perf_counter()
    outcome: dict[str, Any]
    rows_read: dict[str, int] = {}
    try:
        with database.read() as session:
            computed = compute_report(
                session, start=held.period_start, end=held.period_end, time_zone=held.time_zone
            )
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
        if beat is not None:
            stop_heartbeat.set()
            beat.join()
    stored = _store_outcome(database, held, outcome, lease_seconds)
    failed = outcome["status"] == ReportStatus.FAILED.value
    logs.record(
        f"report.{outcome['status']}" if stored else "report.discarded",
        user=held.requested_by,
        started=began,
        outcome="ok" if stored and not failed else ("failed" if stored else "discarded"),
        level=logging.WARNING if failed or not stored else logging.INFO,
        report_id=report_id,
        worker=worker_id,
        attempt=held.attempt,
        error=outcome["error"],
        **rows_read,
    )
    if not stored:
        with database.read() as session:
            return ReportStatus(_row(session, report_id).status)
    return ReportStatus(outcome["status"])


def _store_outcome(
    database: Database, held: Claim, outcome: dict[str, Any], lease_seconds: float
) -> bool:
    """Store a computed outcome if the claim still holds; whether it was stored.

    A database busy with another writer (a long import) is waited out for up to a lease, so
    a finished computation is not thrown away and done again; the claim's fence still keeps
    a report that another runner took over from being overwritten.
    """
    deadline = time.monotonic() + lease_seconds
    while True:
        try:
            with database.write() as session:
                result = session.execute(
                    update(Report)
                    .where(_still_ours(held))
                    .values(finished_at=utc_now(), lease_expires_at=None, **outcome)
                )
                return bool(getattr(result, "rowcount", 0))
        except DatabaseBusy as error:
            if time.monotonic() >= deadline:
                raise
            log.warning(
                "%s (report %s is computed; storing it is tried again)", error, held.report_id
            )
            time.sleep(0.1)  # a busy timeout of 0 fails at once: do not spin


def run_next(
    database: Database, worker_id: str, *, lease_seconds: float = LEASE_SECONDS
) -> int | None:
    """Claim and compute one report; the id it ran, or ``None`` when nothing was waiting."""
    with database.write() as session:
        held = claim(session=session, worker_id=worker_id, lease_seconds=lease_seconds)
    if held is None:
        return None
    run_held(database, held, lease_seconds=lease_seconds)
    return held.report_id


def run_report_now(
    database: Database, *, actor: Actor, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ReportRecord:
    """Request a report and compute it in this process (the CLI's ``report`` command)."""
    worker_id = new_worker_id()
    with database.write() as session:
        record = request_report(
            session=session, actor=actor, start=start, end=end, time_zone=time_zone
        )
        held = claim(session=session, worker_id=worker_id, report_id=record.id)
    assert held is not None, "a report queued in this transaction is claimable by it alone"
    run_held(database, held)
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
            select(Report)
            .where(
                Report.status == ReportStatus.RUNNING.value,
                Report.claimed_by.startswith(f"{host}:"),
            )
            .with_for_update(skip_locked=True)
        )
        for row in running:
            _, _, rest = (row.claimed_by or "").partition(":")
            pid_text = rest.partition(":")[0]
            if pid_text.isdigit() and not _process_alive(int(pid_text)):
                row.lease_expires_at = utc_now() - timedelta(seconds=1)
                released.append(row.id)
        if released:
            _announce(session)
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
    """Runs queued reports one at a time, for one process: a thread in the app (``start``),
    or the main loop of ``gridboard worker`` (``run_forever``).

    Two threads: one claims and computes reports back to back, the other (the caller of
    ``run_forever``) keeps the current report's lease and reacts to ``stop``: it waits up to
    ``stop_grace_seconds`` for the report to finish, then hands it back to the queue
    (``release_claim``) instead of leaving it ``running`` until its lease expires. Nothing
    passes between them per report, so a report costs no thread handoff (see
    ``core.reports.kpis`` for why that matters). On PostgreSQL a third thread LISTENs, so an
    idle runner starts a queued report at once; elsewhere it looks every ``poll_seconds``.
    """

    def __init__(
        self,
        database: Database,
        *,
        poll_seconds: float = 2.0,
        lease_seconds: float = LEASE_SECONDS,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self.worker_id = new_worker_id()
        self._wake = threading.Event()  # the claiming thread: look for work now
        self._stop = threading.Event()
        self._attention = threading.Event()  # the keeping thread: stop, or the work ended
        self._current: Claim | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReportRunner:
        if self._thread is None or not self._thread.is_alive():
            # A fresh id per run, so a report abandoned by an earlier run stays fenced off.
            self.worker_id = new_worker_id()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run_forever, name="gridboard-report-runner", daemon=True
            )
            self._thread.start()
        return self

    def wake(self) -> None:
        """Look for work now (a report was just requested in this process)."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask the loop to stop (safe in a signal handler: it only sets flags)."""
        self._stop.set()
        self._wake.set()
        self._attention.set()

    def stop(self, timeout: float | None = None) -> None:
        """Finish (or, after the grace period, hand back) the current report, then stop."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self, *, until_idle: bool = False) -> None:
        """Run reports until stopped (or, with ``until_idle``, until none is claimable)."""
        self._attention.clear()
        work = threading.Thread(
            target=self._work, args=(until_idle,), name="gridboard-report-work", daemon=True
        )
        work.start()
        if not until_idle and self.database.engine.dialect.name == "postgresql":
            threading.Thread(
                target=self._listen, name="gridboard-report-listener", daemon=True
            ).start()
        while work.is_alive() and not self._stop.is_set():
            self._attention.wait(self.lease_seconds / 3)
            self._attention.clear()
            self._keep_lease()
        if not work.is_alive():
            return
        held = self._current
        if held is not None:
            log.info(
                "stopping: waiting up to %.0f s for report %s",
                self.stop_grace_seconds,
                held.report_id,
            )
        deadline = time.monotonic() + self.stop_grace_seconds
        while work.is_alive() and (left := deadline - time.monotonic()) > 0:
            work.join(min(left, self.lease_seconds / 3))
            self._keep_lease()  # the report may finish in its grace period: keep it held
        held = self._current
        if work.is_alive() and held is not None:
            self._hand_back(held)

    def _listen(self) -> None:
        """Wake the claiming thread whenever a report becomes claimable (PostgreSQL NOTIFY).

        Polling stays the fallback: while this cannot listen (the database restarts, say) it
        says so and tries again after 1, 2, 4 ... 30 s, and the runner still looks for work
        every poll.
        """
        retry_seconds = 1.0
        while not self._stop.is_set():
            try:
                # A connection of its own, not one taken from the pool and detached: with that
                # one, this process's reports ran a fifth slower (bench/workers.py; no more
                # connections were opened, and the cause was not pinned down).
                import psycopg  # PostgreSQL only: SQLite processes never load libpq

                url = self.database.engine.url.set(drivername="postgresql")
                connection = psycopg.connect(
                    url.render_as_string(hide_password=False),
                    autocommit=True,
                    application_name=f"gridboard listener {self.worker_id}"[:63],
                )
                try:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    retry_seconds = 1.0
                    self._wake.set()  # whatever was queued while nobody listened
                    while not self._stop.is_set():
                        # psycopg's own wait wakes ten times a second; a thread that wakes
                        # takes the GIL from the one computing, so sleep in select() instead.
                        if sockets.select([connection], [], [], 5.0)[0]:
                            for _ in connection.notifies(timeout=0):
                                self._wake.set()
                finally:
                    connection.close()
            except Exception:
                log.warning(
                    "report runner %s cannot listen for new reports; polling every %g s, "
                    "listening again in %g s",
                    self.worker_id,
                    self.poll_seconds,
                    retry_seconds,
                    exc_info=True,
                )
                self._stop.wait(retry_seconds)
                retry_seconds = min(retry_seconds * 2, 30.0)

    def _keep_lease(self) -> None:
        held = self._current
        if held is None:
            return
        try:
            if not renew_lease(self.database, held, self.lease_seconds) and self._current is held:
                log.warning("report %s is no longer held by %s", held.report_id, held.worker_id)
        except Exception:  # the next beat, or the final write, will tell
            log.warning("could not renew the lease of report %s", held.report_id, exc_info=True)

    def _work(self, until_idle: bool) -> None:
        """Claim and compute reports until stopped (or idle, with ``until_idle``).

        A database busy with another writer (a long import) is waited out, poll after poll:
        it neither stops the runner nor counts as "nothing to claim".
        """
        try:
            orphans_looked_for = False
            while not self._stop.is_set():
                busy = False
                held: Claim | None = None
                try:
                    if not orphans_looked_for:
                        self._release_orphans()
                        orphans_looked_for = True
                    with self.database.write() as session:
                        held = claim(
                            session=session,
                            worker_id=self.worker_id,
                            lease_seconds=self.lease_seconds,
                        )
                except DatabaseBusy as error:
                    log.warning(
                        "%s (report runner %s tries again in %g s)",
                        error,
                        self.worker_id,
                        self.poll_seconds,
                    )
                    busy = True
                except Exception:
                    log.exception("report runner %s could not claim work", self.worker_id)
                if held is not None and self._stop.is_set():  # asked to stop while claiming
                    self._hand_back(held)
                    return
                if held is not None:
                    self._run(held)
                    continue
                if until_idle and not busy:
                    return
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            self._attention.set()

    def _release_orphans(self) -> None:
        """Release orphaned reports; only a busy database is worth trying again for."""
        try:
            release_orphans(self.database)
        except DatabaseBusy:
            raise
        except Exception:
            log.exception("could not look for orphaned reports")

    def _run(self, held: Claim) -> None:
        thread = threading.current_thread()
        name, thread.name = thread.name, f"gridboard-report-{held.report_id}"
        self._current = held
        try:
            run_held(self.database, held, lease_seconds=self.lease_seconds, keep_lease=False)
        except Exception:  # the lease expires and another runner tries again
            log.exception(
                "report runner %s could not store report %s", held.worker_id, held.report_id
            )
        finally:
            self._current = None
            thread.name = name

    def _hand_back(self, held: Claim) -> None:
        try:
            release_claim(self.database, held)
        except Exception:  # its lease expires and another runner takes it over
            log.exception("could not hand report %s back to the queue", held.report_id)
