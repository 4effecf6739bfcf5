"""The report queue in SQL: claims, leases (and ``LeaseKeeper``, which renews them), storing an
outcome, hand-backs and orphans, every write fenced by the claim. See
docs/architecture.md#reports."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core import logs
from core.db import Database
from core.errors import BusyDatabase
from core.models import Report, utc_now
from core.reports import LEASE_SECONDS
from core.reports.jobs.records import ReportStatus, announce

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


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


def _claimable(now: datetime) -> Any:
    return or_(
        Report.status == ReportStatus.PENDING.value,
        (Report.status == ReportStatus.RUNNING.value) & (Report.lease_expires_at < now),
    )


def any_claimable(database: Database) -> bool:
    """Whether ``claim`` would find a report now, read without taking SQLite's write lock: an
    idle runner looks with this first, and does not hold up a writer every poll."""
    with database.read() as session:
        found = session.scalar(select(Report.id).where(_claimable(utc_now())).limit(1))
    return found is not None


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
    query = select(Report).where(_claimable(now))
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


class LeaseKeeper:
    """Renews the lease of the report a runner holds (``held``), from whichever thread calls
    ``renew``: the runner's own loop, or a thread of its own (``kept_by_thread``)."""

    def __init__(self, database: Database, lease_seconds: float = LEASE_SECONDS) -> None:
        self.database = database
        self.lease_seconds = lease_seconds
        self.held: Claim | None = None

    def renew(self) -> None:
        held = self.held
        if held is None:
            return
        try:
            if not renew_lease(self.database, held, self.lease_seconds) and self.held is held:
                log.warning("report %s is no longer held by %s", held.report_id, held.worker_id)
        except Exception:  # the next beat, or the final write, will tell
            log.warning("could not renew the lease of report %s", held.report_id, exc_info=True)

    @contextmanager
    def kept_by_thread(self, held: Claim) -> Iterator[None]:
        """Hold ``held`` for the block, renewing every third of a lease from a new thread."""
        self.held = held
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.lease_seconds / 3):
                self.renew()

        thread = threading.Thread(target=beat, name=f"report-{held.report_id}-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            self.held = None


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


def store_outcome(
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
        except BusyDatabase as error:
            if time.monotonic() >= deadline:
                raise
            log.warning(
                "%s (report %s is computed; storing it is tried again)", error, held.report_id
            )
            time.sleep(0.1)  # a busy timeout of 0 fails at once: do not spin


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
            announce(session)
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
            announce(session)
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
