"""A report whose runner is killed (SIGKILL) mid-computation is not left running forever and
never keeps part of a result: the next runner on the host re-runs it to completion."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import make_url, select

from core.domain import SYSTEM_ACTOR
from core.models import Report
from core.reports.jobs import ReportStatus, get_report_tables, request_report, run_report_now
from core.seed import seed_grid
from tests.factories import MANAGER
from tests.faults.conftest import gridboard

END = datetime(2025, 3, 1, tzinfo=UTC)
START = datetime(2025, 2, 1, tzinfo=UTC)


@contextmanager
def report_row_locked(url: str, report_id: int) -> Iterator[str]:
    """Hold what a runner needs to store its result (SQLite's write lock, the report's row on
    PostgreSQL) and yield the report's status as seen under that lock."""
    parsed = make_url(url)
    query = "SELECT status, result_json IS NULL FROM reports WHERE id = "
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(parsed.database), timeout=60, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            status, empty = connection.execute(query + "?", (report_id,)).fetchone()
            assert empty, "a running report already has result rows"
            yield status
        finally:
            connection.rollback()
            connection.close()
        return
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        row = connection.execute(query + "%s FOR UPDATE", (report_id,)).fetchone()
        assert row is not None and row[1], "a running report already has result rows"
        yield row[0]
        connection.rollback()


@contextmanager
def computation_held(url: str) -> Iterator[None]:
    """On PostgreSQL, the rollups locked against every reader: a runner that has claimed a
    report stays inside its computation until it is killed. (SQLite readers never wait; there
    the runner is caught by locking it out of storing its result, see above.)"""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield
        return
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        connection.execute("LOCK TABLE measurement_rollups IN ACCESS EXCLUSIVE MODE")
        yield
        connection.rollback()


def _report(db, report_id: int) -> Report:
    with db.read() as session:
        row = session.get(Report, report_id)
        assert row is not None
        return row


def _wait_for_claim(db, process: subprocess.Popen[str]) -> int:
    """The id of the report that ``process`` has claimed (is computing)."""
    while process.poll() is None:
        with db.read() as session:
            claimed = session.scalars(
                select(Report.id).where(
                    Report.status == ReportStatus.RUNNING.value,
                    Report.claimed_by.contains(f":{process.pid}:"),
                )
            ).first()
        if claimed is not None:
            return claimed
        time.sleep(0.01)
    raise AssertionError(f"the runner ended before claiming a report: {process.returncode}")


def _wait_until_postgresql_let_go(url: str, report_id: int) -> None:
    """A killed client's server process lives until it notices the closed socket; the next
    runner skips a report whose row it still locks, so wait for it as a restart would."""
    if not url.startswith("postgresql"):
        return
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        connection.execute("SELECT 1 FROM reports WHERE id = %s FOR UPDATE", (report_id,))
        connection.rollback()


@pytest.mark.parametrize("runner", ["worker", "report"])
def test_killed_report_is_run_again_to_completion(db, url, tmp_path, runner):
    with db.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=10, per_component=3_000, end=END)
    expected = run_report_now(db, actor=MANAGER, start=START, end=END)
    with db.read() as session:
        expected_tables = get_report_tables(session=session, report_id=expected.id)
    assert expected_tables["daily_averages"].height > 0

    if runner == "worker":
        with db.write() as session:
            request_report(session=session, actor=MANAGER, start=START, end=END)
        command = ["worker", "--poll-seconds", "0.1"]
    else:
        period = ["--start", START.isoformat(), "--end", END.isoformat()]
        command = ["report", *period, "--out", str(tmp_path / "out")]
    # A runner waits up to a minute for a lock, so it is still mid-report when killed.
    with computation_held(url):
        process = gridboard(
            url,
            *command,
            env={"GRIDBOARD_SQLITE_BUSY_TIMEOUT_MS": "60000"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        report_id = _wait_for_claim(db, process)
        with report_row_locked(url, report_id) as status:
            assert status == ReportStatus.RUNNING.value, "the runner finished before the kill"
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL
    _wait_until_postgresql_let_go(url, report_id)
    killed = _report(db, report_id)
    assert (killed.status, killed.result_json, killed.attempts) == ("running", None, 1)

    restarted = gridboard(url, "worker", "--once", stdout=subprocess.DEVNULL)
    assert restarted.wait(timeout=120) == 0

    finished = _report(db, report_id)
    assert finished.status == ReportStatus.COMPLETED.value
    assert finished.attempts == 2
    with db.read() as session:
        tables = get_report_tables(session=session, report_id=report_id)
    assert tables.keys() == expected_tables.keys()
    for name, table in tables.items():
        assert table.equals(expected_tables[name]), name
