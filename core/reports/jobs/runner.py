"""Computing reports: one now (``generate_report``), one claimed (``compute_claimed``), and the
runner that loops over the queue (``ReportRunner``). See docs/architecture.md#reports."""

from __future__ import annotations

import json
import logging
import select as sockets
import threading
import time
from datetime import datetime
from typing import Any

from core import logs
from core.db import Database
from core.domain import Actor
from core.errors import BusyDatabase, GridBoardError
from core.reports import LEASE_SECONDS, STOP_GRACE_SECONDS
from core.reports.compute import compute_report
from core.reports.export import report_payload
from core.reports.jobs.queue import (
    Claim,
    LeaseKeeper,
    any_claimable,
    claim,
    new_worker_id,
    release_claim,
    release_orphans,
    store_outcome,
)
from core.reports.jobs.records import (
    NOTIFY_CHANNEL,
    ReportRecord,
    ReportStatus,
    get_report,
    report_row,
    request_report,
)

log = logging.getLogger(__name__)


def _describe_failure(error: BaseException) -> str:
    """The sentence stored with a failed report, shown to everyone who opens it. Only a domain
    error's own sentence is shown; anything else is named by its type, never its text (a
    database error's text holds its SQL and parameters), and is in the log in full."""
    if isinstance(error, GridBoardError):
        return _shortened(str(error))
    return (
        f"internal error while computing ({type(error).__name__}); request the report "
        "again, and if it fails again tell the administrator (the log has the details)"
    )


def _shortened(sentence: str, limit: int = 500) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 3].rstrip() + "..."


def _outcome(database: Database, held: Claim) -> tuple[dict[str, Any], dict[str, int]]:
    """The outcome to store for ``held`` (completed with its tables, or failed), and what
    was read."""
    try:
        with database.read() as session:
            computed = compute_report(
                session, start=held.period_start, end=held.period_end, time_zone=held.time_zone
            )
    except Exception as error:
        log.exception("report %s failed", held.report_id)
        return {
            "status": ReportStatus.FAILED.value,
            "result_json": None,
            "error": _describe_failure(error),
        }, {}
    rows_read = {"rollup_rows": computed.rollup_rows, "raw_rows": computed.raw_rows}
    payload = {"tables": report_payload(computed.tables), "provenance": rows_read}
    return {
        "status": ReportStatus.COMPLETED.value,
        "result_json": json.dumps(payload, sort_keys=True),
        "error": None,
    }, rows_read


def compute_claimed(
    database: Database,
    held: Claim,
    *,
    lease_seconds: float = LEASE_SECONDS,
    keeper: LeaseKeeper | None = None,
) -> ReportStatus:
    """Compute the report ``held`` names and store its outcome, if the claim still holds.

    Without a ``keeper`` (one whose loop renews the lease) a thread renews it meanwhile.
    """
    began = time.perf_counter()
    if keeper is None:
        with LeaseKeeper(database, lease_seconds).kept_by_thread(held):
            outcome, rows_read = _outcome(database, held)
    else:
        outcome, rows_read = _outcome(database, held)
    stored = store_outcome(database, held, outcome, lease_seconds)
    failed = outcome["status"] == ReportStatus.FAILED.value
    logs.record(
        f"report.{outcome['status']}" if stored else "report.discarded",
        user=held.requested_by,
        started=began,
        outcome="ok" if stored and not failed else ("failed" if stored else "discarded"),
        level=logging.WARNING if failed or not stored else logging.INFO,
        report_id=held.report_id,
        worker=held.worker_id,
        attempt=held.attempt,
        error=outcome["error"],
        **rows_read,
    )
    if not stored:
        with database.read() as session:
            return ReportStatus(report_row(session, held.report_id).status)
    return ReportStatus(outcome["status"])


def generate_report(
    database: Database, *, actor: Actor, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ReportRecord:
    """Request a report and compute it in this process, without a runner (the CLI's
    ``report`` command)."""
    worker_id = new_worker_id()
    with database.write() as session:
        record = request_report(
            session=session, actor=actor, start=start, end=end, time_zone=time_zone
        )
        held = claim(session=session, worker_id=worker_id, report_id=record.id)
    assert held is not None, "a report queued in this transaction is claimable by it alone"
    compute_claimed(database, held)
    with database.read() as session:
        return get_report(session=session, report_id=record.id)


class ReportRunner:
    """Runs queued reports one at a time, for one process: a thread in the app (``start``),
    or the main loop of ``gridboard worker`` (``run``).

    Two threads: one claims and computes reports back to back, the other (the caller of
    ``run``) keeps the current report's lease and reacts to ``stop``: it waits up to
    ``stop_grace_seconds`` for the report to finish, then hands it back to the queue
    (``release_claim``) instead of leaving it ``running`` until its lease expires. Nothing
    passes between them per report, so a report costs no thread handoff. On PostgreSQL a
    third thread LISTENs, so an idle runner starts a queued report at once; elsewhere it
    looks every ``poll_seconds``.
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
        self._lease = LeaseKeeper(database, lease_seconds)
        self._claiming = threading.Lock()  # held while a claim is written and noted in _lease
        self._thread: threading.Thread | None = None

    def start(self) -> ReportRunner:
        if self._thread is None or not self._thread.is_alive():
            # A fresh id per run, so a report abandoned by an earlier run stays fenced off.
            self.worker_id = new_worker_id()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run, name="gridboard-report-runner", daemon=True
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

    def run(self, *, until_idle: bool = False) -> None:
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
            self._lease.renew()
        if not work.is_alive():
            return
        held = self._lease.held
        if held is not None:
            log.info(
                "stopping: waiting up to %.0f s for report %s",
                self.stop_grace_seconds,
                held.report_id,
            )
        deadline = time.monotonic() + self.stop_grace_seconds
        while work.is_alive() and (left := deadline - time.monotonic()) > 0:
            work.join(min(left, self.lease_seconds / 3))
            self._lease.renew()  # the report may finish in its grace period: keep it held
        if not work.is_alive():
            return
        # A claim committed but not yet noted in ``held`` would be left ``running`` until its
        # lease expired (the process may exit right after this): wait for the claim under way.
        with self._claiming:
            held = self._lease.held
        if held is not None:
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
                    held = self._claim_next()
                except BusyDatabase as error:
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
                    self._lease.held = None
                    return
                if held is not None:
                    self._compute(held)
                    continue
                if until_idle and not busy:
                    return
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            self._attention.set()

    def _claim_next(self) -> Claim | None:
        """Claim the next report, noted in ``_lease.held`` once committed: a stop waits for
        a claim under way (``run``). An idle poll only reads: it takes no write lock."""
        if not any_claimable(self.database):
            return None
        with self._claiming:
            with self.database.write() as session:
                held = claim(
                    session=session, worker_id=self.worker_id, lease_seconds=self.lease_seconds
                )
            self._lease.held = held
        return held

    def _release_orphans(self) -> None:
        """Release orphaned reports; only a busy database is worth trying again for."""
        try:
            release_orphans(self.database)
        except BusyDatabase:
            raise
        except Exception:
            log.exception("could not look for orphaned reports")

    def _compute(self, held: Claim) -> None:
        thread = threading.current_thread()
        name, thread.name = thread.name, f"gridboard-report-{held.report_id}"
        try:
            compute_claimed(
                self.database, held, lease_seconds=self.lease_seconds, keeper=self._lease
            )
        except Exception:  # the lease expires and another runner tries again
            log.exception(
                "report runner %s could not store report %s", held.worker_id, held.report_id
            )
        finally:
            self._lease.held = None
            thread.name = name

    def _hand_back(self, held: Claim) -> None:
        try:
            release_claim(self.database, held)
        except Exception:  # its lease expires and another runner takes it over
            log.exception("could not hand report %s back to the queue", held.report_id)
