"""A report whose runner is killed (SIGKILL) mid-computation is not left running forever and
never keeps part of a result: the next runner on the host re-runs it to completion."""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import make_url

from core.domain import SYSTEM_ACTOR
from core.models import Report
from core.reports.jobs import ReportStatus, generate_report, get_report_tables, request_report
from core.seed import seed_grid
from tests.factories import MANAGER
from tests.faults.conftest import (
    claim_held,
    computation_held,
    gridboard,
)

END = datetime(2025, 3, 1, tzinfo=UTC)
START = datetime(2025, 2, 1, tzinfo=UTC)


def _report(db, report_id: int) -> Report:
    with db.read() as session:
        row = session.get(Report, report_id)
        assert row is not None
        return row


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
    expected = generate_report(db, actor=MANAGER, start=START, end=END)
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
        with claim_held(db, url, process) as (report_id, status):
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
