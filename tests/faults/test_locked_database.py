"""Another writer holds the database: a write waits for it, or is refused with a message that
says so and keeps nothing; never a driver error."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import make_url, select

from core.db import Database
from core.errors import BusyDatabase
from core.grid.components import create_component
from core.imports import import_measurements
from core.imports.templates import MEASUREMENTS_TEMPLATE_CSV
from core.measurements.measurements import add_measurement
from core.measurements.rollups import _ROLLUP_LOCK_ID
from core.models import MeasurementRollup
from core.notifications.watch import WebhookWatch
from core.reports.jobs import ReportRunner, ReportStatus, get_report, request_report
from core.reports.jobs.queue import any_claimable
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component
from tests.faults.conftest import (
    claim_held,
    computation_held,
    gridboard,
    measurement_count,
)

LOCKED_TABLES = "components, measurements, measurement_rollups, reports"
GUARD_SECONDS = 30


@contextmanager
def other_writer(url: str) -> Iterator[object]:
    """Another connection in the middle of a write: SQLite's write lock; on PostgreSQL the
    rollups' advisory lock and exclusive locks on the tables (plain reads still pass)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(
            str(parsed.database), isolation_level=None, check_same_thread=False
        )
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        finally:
            connection.rollback()
            connection.close()
        return
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        connection.execute(f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK_ID})")
        connection.execute(f"LOCK TABLE {LOCKED_TABLES} IN EXCLUSIVE MODE")
        yield connection
        connection.rollback()


def _components(db: Database) -> int:
    from sqlalchemy import func, select

    from core.models import Component

    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Component)) or 0)


@pytest.fixture
def impatient(url) -> Iterator[Database]:
    """The same database, opened by a service that waits only 0.2 s for a lock."""
    database = Database.from_url(url, busy_timeout_ms=200)
    yield database
    database.dispose()


def test_a_write_refused_after_the_wait_says_busy_and_keeps_nothing(db, url, impatient):
    with other_writer(url), pytest.raises(BusyDatabase) as refused:
        make_component(impatient, TRANSFORMER)
    assert refused.value.waited_ms == 200
    assert str(refused.value) == (
        "the database is busy with another write (waited 0.2 s for it): nothing was written; "
        "try again in a moment"
    )
    assert _components(db) == 0
    make_component(impatient, TRANSFORMER)  # the same write once the other one is done
    assert _components(db) == 1


def test_an_import_refused_while_busy_writes_no_row(db, url, impatient):
    for base in (TRANSFORMER, LINE, SWITCH):  # the components the template names
        make_component(db, base, substation="Fuchsberg")
    with other_writer(url), pytest.raises(BusyDatabase), impatient.write() as session:
        import_measurements(
            session=session,
            actor=MANAGER,
            source=MEASUREMENTS_TEMPLATE_CSV.encode(),
            file_name="template.csv",
        )
    assert measurement_count(db) == 0


def test_a_write_waits_for_a_lock_released_in_time(db, url):
    patient = Database.from_url(url, busy_timeout_ms=30_000)
    try:
        with other_writer(url) as holder:
            release = threading.Timer(0.5, holder.rollback)
            release.start()
            try:
                make_component(patient, TRANSFORMER)  # waits, then succeeds
            finally:
                release.join()
    finally:
        patient.dispose()
    assert _components(db) == 1


@contextmanager
def rollup_writer(url: str) -> Iterator[object]:
    """Another writer in the middle of maintaining rollups: SQLite's write lock; on PostgreSQL
    the rollups' advisory lock alone (no table is locked)."""
    if make_url(url).get_backend_name() == "sqlite":
        with other_writer(url) as connection:
            yield connection
        return
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        connection.execute(f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK_ID})")
        yield connection
        connection.rollback()


def test_a_single_measurement_waits_for_a_writer_of_rollups_and_keeps_nothing_when_refused(
    db, url, impatient
):
    component = make_component(db, TRANSFORMER)
    values = {
        "actor": MANAGER,
        "component_id": component.id,
        "measurement_type": "power",
        "timestamp": "2024-03-01T12:00:00Z",
        "value": 3.5,
    }
    with rollup_writer(url), pytest.raises(BusyDatabase), impatient.write() as session:
        add_measurement(session=session, **values)
    assert measurement_count(db) == 0
    with impatient.write() as session:  # the same post once the other writer is done
        add_measurement(session=session, **values)
    assert measurement_count(db) == 1
    with db.read() as session:
        assert [
            (row.sample_count, row.value_sum) for row in session.scalars(select(MeasurementRollup))
        ] == [(1, 3.5)]


def _make_at_once(db: Database, fields: dict[str, object]) -> None:
    with db.write_at_once() as session:
        create_component(session=session, actor=MANAGER, fields=fields)


def test_a_write_at_once_is_refused_while_another_writer_holds_sqlite_then_writes_wait_again(
    db, url
):
    """What the API's event loop tries first for a single post: no wait at all for another
    writer's lock, nothing written; later writes on the same connections wait as before."""
    if not db.writes_at_once:  # PostgreSQL: the statements wait for the network; not offered
        with pytest.raises(RuntimeError, match="for SQLite"), db.write_at_once():
            pass
        return
    with other_writer(url) as holder:
        released = threading.Event()

        def release() -> None:
            released.set()
            holder.rollback()

        guard = threading.Timer(5, release)  # if the write waited, it ends after this
        guard.start()
        try:
            with pytest.raises(BusyDatabase) as refused:
                _make_at_once(db, TRANSFORMER)
        finally:
            guard.cancel()
        assert not released.is_set(), "the write waited for the other writer"
        assert refused.value.waited_ms == 0
        assert _components(db) == 0
        later = threading.Timer(0.3, release)
        later.start()
        try:
            make_component(db, TRANSFORMER)  # waits for the lock: the timeout is back
        finally:
            later.join()
        assert released.is_set()
    assert _components(db) == 1
    _make_at_once(db, LINE)  # a free lock is taken at once
    assert _components(db) == 2


def impatient_worker(url: str) -> tuple[subprocess.Popen[str], threading.Timer]:
    """``gridboard worker --once`` with a 200 ms busy timeout, its log on stdout, and a timer
    that kills it after ``GUARD_SECONDS``, so a wrong worker fails the test, not hangs it."""
    worker = gridboard(
        url,
        "worker",
        "--once",
        "--poll-seconds",
        "0.1",
        env={"GRIDBOARD_SQLITE_BUSY_TIMEOUT_MS": "200", "GRIDBOARD_LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    guard = threading.Timer(GUARD_SECONDS, worker.kill)
    guard.start()
    return worker, guard


def test_a_worker_waits_out_a_busy_database_then_runs_the_report(db, url):
    with db.write() as session:
        queued = request_report(
            session=session,
            actor=MANAGER,
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2025, 1, 2, tzinfo=UTC),
        )
    with other_writer(url):
        worker, guard = impatient_worker(url)
        assert worker.stdout is not None
        seen, busy = [], 0
        for line in worker.stdout:  # until the worker met the lock twice (or it ends)
            seen.append(line)
            busy += "the database is busy with another write" in line
            if busy == 2:
                break
        assert busy == 2, f"the worker did not wait out the busy database: {seen[-3:]}"
    output, _ = worker.communicate(timeout=120)
    guard.cancel()
    assert worker.returncode == 0, output
    with db.read() as session:
        assert get_report(session=session, report_id=queued.id).status is ReportStatus.COMPLETED


def test_an_idle_worker_polls_without_waiting_for_another_writer(db, url, impatient, caplog):
    """With nothing queued or due, a worker's polls only read: a long import keeps the lock
    without the worker queuing behind it, or logging that the database is busy, each poll."""
    runner = ReportRunner(impatient, poll_seconds=0.02)
    hooks = WebhookWatch(impatient, worker=runner.worker_id, lease_seconds=30, every_seconds=0.02)
    runner.start()
    hooks.start()
    try:
        time.sleep(0.5)  # started: orphans looked for once (a write), then idle polls
        caplog.clear()
        with other_writer(url):
            time.sleep(1.5)  # some 75 polls of each, any of which would wait 0.2 s and fail
            assert any_claimable(impatient) is False and runner._thread is not None
            assert runner._thread.is_alive()
    finally:
        hooks.stop(timeout=30)
        runner.stop(timeout=30)
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []


def test_a_report_computed_while_the_database_is_busy_is_stored_once_it_is_free(db, url):
    with db.write() as session:
        queued = request_report(
            session=session,
            actor=MANAGER,
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2025, 1, 2, tzinfo=UTC),
        )
    computing = ExitStack()
    computing.enter_context(computation_held(url))
    try:
        worker, guard = impatient_worker(url)
        with claim_held(db, url, worker) as (report_id, status):
            assert report_id == queued.id
            computing.close()  # the computation may finish; storing it must wait for us
            assert status == ReportStatus.RUNNING.value, "the report was stored before the lock"
            assert worker.stdout is not None
            seen, retries = [], 0
            for line in worker.stdout:  # until the worker tried to store it twice (or ended)
                seen.append(line)
                retries += "storing it is tried again" in line
                if retries == 2:
                    break
            assert retries == 2, f"the worker did not wait to store the report: {seen[-3:]}"
        output, _ = worker.communicate(timeout=120)
    finally:
        computing.close()
        guard.cancel()
    assert worker.returncode == 0, output
    with db.read() as session:
        stored = get_report(session=session, report_id=queued.id)
    assert (stored.status, stored.attempts) == (ReportStatus.COMPLETED, 1)  # computed once


def test_the_command_reports_a_busy_database_in_words(db, url, tmp_path):
    for base in (TRANSFORMER, LINE, SWITCH):  # the components the template names
        make_component(db, base, substation="Fuchsberg")
    file = tmp_path / "measurements.csv"
    file.write_text(MEASUREMENTS_TEMPLATE_CSV, encoding="utf-8")
    with other_writer(url):
        refused = gridboard(
            url,
            "import-measurements",
            str(file),
            env={"GRIDBOARD_SQLITE_BUSY_TIMEOUT_MS": "300"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _, errors = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert "error: the database is busy with another write (waited 0.3 s for it)" in errors
    assert "Traceback" not in errors and "OperationalError" not in errors
    assert measurement_count(db) == 0
