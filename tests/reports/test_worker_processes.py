"""Several ``gridboard worker`` processes and an app's runner share one queue.

Each report must be stored exactly once, with the right tables: a worker that is killed
mid-report loses it to another runner when its lease expires, a stopped worker finishes its
report or hands it back at once, and no runner ever computes a report another one holds.

The workers are real processes (``tests/reports/worker_process.py`` runs ``core.cli.main``
with report computation held back by a gate file or a short sleep, so a test can catch a
worker in the middle of a report). What each runner stored is read from its structured log
(``report.completed`` / ``report.discarded`` records with the report id and attempt, written
after the fenced write); ``attempts`` in the database counts the claims of each report.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from core import logs
from core.db import Database
from core.measurements.measurement_store import write_measurements
from core.models import Report
from core.reports import kpis
from core.reports.compute import compute_report
from core.reports.export import table_csv
from core.reports.jobs import ReportRunner, ReportStatus, get_report_tables, request_report, runner
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 5, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=3)
ZONES = ("UTC", "Europe/Zurich", "America/New_York", "Asia/Kolkata", "Australia/Adelaide")
GUARD_SECONDS = 180  # only against a hang: every wait below normally ends in seconds


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """The worker's structured log records (JSON lines on its stdout)."""
        lines = self.log().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def stored(self, action: str) -> list[tuple[int, int]]:
        """(report id, attempt) of each ``action`` record (``report.completed``...)."""
        return _steps(self.records(), action)

    def completed(self) -> list[tuple[int, int]]:
        return self.stored("report.completed")


def _steps(records: list[dict[str, Any]], action: str) -> list[tuple[int, int]]:
    return [(r["report_id"], r["attempt"]) for r in records if r.get("action") == action]


@pytest.fixture
def spawn(tmp_path: Path, db: Database) -> Iterator[object]:
    """Start ``gridboard worker`` processes on the test database; all are killed at the end."""
    started: list[Worker] = []
    url = db.engine.url.render_as_string(hide_password=False)

    def start(
        *,
        lease: float,
        grace: float = 30,
        gate: Path | None = None,
        delay: float = 0.0,
        once: bool = False,
        freeze: bool = False,
    ) -> Worker:
        env = {
            **os.environ,
            "GRIDBOARD_TEST_COMPUTE_SECONDS": str(delay),
            "GRIDBOARD_LOG_FORMAT": "json",
            "GRIDBOARD_LOG_LEVEL": "INFO",
        }
        env.pop("GRIDBOARD_TEST_GATE", None)
        env.pop("GRIDBOARD_LOG_FILE", None)
        env.pop("GRIDBOARD_TEST_FREEZE", None)
        if freeze:
            env["GRIDBOARD_TEST_FREEZE"] = "1"
        if gate is not None:
            env["GRIDBOARD_TEST_GATE"] = str(gate)
        log_path = tmp_path / f"worker-{len(started)}.log"
        command = [
            sys.executable,
            "-m",
            "tests.reports.worker_process",
            "--database-url",
            url,
            "worker",
            "--poll-seconds",
            "0.05",
            "--lease-seconds",
            str(lease),
            "--stop-grace-seconds",
            str(grace),
        ]
        if once:
            command.append("--once")
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        worker = Worker(process, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()


def _seed(db: Database) -> None:
    components = [make_component(db, TRANSFORMER), make_component(db, LINE)]
    components.append(make_component(db, SWITCH))
    rows = [
        (c.id, kind, int((T0 + timedelta(minutes=10 * i)).timestamp() * 1e6), float(i % 37 + c.id))
        for c in components
        for kind in ("voltage", "current", "power")
        for i in range(3 * 24 * 6)
    ]
    frame = pl.DataFrame(
        rows, schema=["component_id", "measurement_type", "timestamp_us", "value"], orient="row"
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)


def _queue(db: Database, count: int) -> dict[int, tuple[datetime, str]]:
    """``count`` reports, no two alike (start hour x zone), so a mixed-up result shows."""
    queued = {}
    with db.write() as session:
        for n in range(count):
            start, zone = T0 + timedelta(hours=n // len(ZONES)), ZONES[n % len(ZONES)]
            record = request_report(
                session=session, actor=MANAGER, start=start, end=T1, time_zone=zone
            )
            queued[record.id] = (start, zone)
    return queued


def _expected_csv(db: Database, start: datetime, zone: str) -> dict[str, bytes]:
    with db.read() as session:
        computed = compute_report(session, start=start, end=T1, time_zone=zone)
    return {name: table_csv(computed.tables[name]) for name in kpis.TABLES}


def _rows(db: Database) -> dict[int, Report]:
    with db.read() as session:
        return {row.id: row for row in session.scalars(select(Report))}


def _wait_until(condition, what: str, db: Database):
    deadline = time.monotonic() + GUARD_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    statuses = Counter(row.status for row in _rows(db).values())
    raise AssertionError(f"gave up waiting for {what}; reports: {dict(statuses)}")


def _held_by(db: Database, worker: Worker) -> Report | None:
    running = [
        row
        for row in _rows(db).values()
        if row.status == ReportStatus.RUNNING.value
        and (row.claimed_by or "").split(":")[1:2] == [str(worker.pid)]
    ]
    assert len(running) <= 1, "a worker holds one report at a time"
    return running[0] if running else None


def _stopped(worker: Worker) -> bool:
    """Whether the worker's process is stopped (SIGSTOP): its state in /proc is ``T``."""
    stat = Path(f"/proc/{worker.pid}/stat").read_text(encoding="ascii")
    return stat.rpartition(")")[2].split()[0] == "T"


def _stop(worker: Worker) -> int:
    worker.process.send_signal(signal.SIGTERM)
    return worker.process.wait(timeout=GUARD_SECONDS)


def _slow_in_process(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    real = runner.compute_report

    def slowed(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "compute_report", slowed)


def test_fifty_reports_each_stored_once_though_a_worker_is_killed_mid_report(
    db, spawn, tmp_path, monkeypatch, caplog
):
    _seed(db)
    queued = _queue(db, 50)
    lease = 6.0  # renewed every 2 s: long enough that no live runner loses its report
    # The victim starts first and blocks inside its first report until it is killed.
    victim = spawn(lease=lease, gate=tmp_path / "never")
    orphan = _wait_until(lambda: _held_by(db, victim), "the victim to claim a report", db)

    # Two more workers and an app process's runner share the rest of the queue.
    survivors = [spawn(lease=lease, delay=0.05) for _ in range(2)]
    caplog.set_level(logging.INFO, logger=logs.AUDIT_LOGGER)
    _slow_in_process(monkeypatch, 0.05)
    app_runner = ReportRunner(db, poll_seconds=0.05, lease_seconds=lease).start()
    try:
        _wait_until(
            lambda: sum(r.status == "completed" for r in _rows(db).values()) >= 10,
            "the others to complete some reports",
            db,
        )
        held = _held_by(db, victim)
        assert held is not None and held.id == orphan.id  # still mid-report when killed
        victim.process.kill()
        victim.process.wait()
        _wait_until(
            lambda: all(r.status == "completed" for r in _rows(db).values()),
            "every report to complete",
            db,
        )
    finally:
        app_runner.stop(timeout=GUARD_SECONDS)
    assert [_stop(worker) for worker in survivors] == [0, 0]

    rows = _rows(db)
    assert set(rows) == set(queued)
    # the killed worker's report was claimed again once; every other report exactly once
    assert {i: r.attempts for i, r in rows.items() if r.attempts != 1} == {orphan.id: 2}
    assert f":{victim.pid}:" not in (rows[orphan.id].claimed_by or "")

    # every report was stored by exactly one runner, and nobody's write was thrown away
    app_records = [getattr(r, logs.FIELDS) for r in caplog.records if hasattr(r, logs.FIELDS)]
    app_stores = _steps(app_records, "report.completed")
    stores = [*app_stores, *(store for worker in survivors for store in worker.completed())]
    assert victim.completed() == []
    assert Counter(report_id for report_id, _ in stores) == Counter(set(queued))
    assert sorted(attempt for report_id, attempt in stores if report_id == orphan.id) == [2]
    assert _steps(app_records, "report.discarded") == []
    assert [w.stored("report.discarded") for w in (victim, *survivors)] == [[], [], []]
    assert sum(1 for part in (app_stores, *(w.completed() for w in survivors)) if part) >= 2

    # ...and each holds the tables of its own period and zone
    expected = {key: _expected_csv(db, *key) for key in set(queued.values())}
    with db.read() as session:
        for report_id, key in queued.items():
            tables = get_report_tables(session=session, report_id=report_id)
            got = {name: table_csv(frame) for name, frame in tables.items()}
            assert got == expected[key], f"report {report_id} ({key}) has another's tables"
    assert len({csv[kpis.DAILY_AVERAGES] for csv in expected.values()}) == len(expected)


def test_sigterm_hands_back_a_report_that_cannot_finish_in_the_grace_period(db, spawn, tmp_path):
    _seed(db)
    [(report_id, (start, zone))] = _queue(db, 1).items()
    # a lease of ten minutes: only the hand-back can make the report claimable again soon
    stuck = spawn(lease=600, grace=0, gate=tmp_path / "never")
    _wait_until(lambda: _held_by(db, stuck), "the worker to claim the report", db)

    assert _stop(stuck) == 0
    row = _rows(db)[report_id]
    assert (row.status, row.claimed_by, row.lease_expires_at) == ("pending", None, None)
    assert row.attempts == 0  # a hand-back is not a crash: it does not count towards the limit
    released = [r for r in stuck.records() if r.get("action") == "report.released"]
    assert [r["report_ids"] for r in released] == [[report_id]] and stuck.completed() == []

    successor = spawn(lease=600, once=True)
    assert successor.process.wait(timeout=GUARD_SECONDS) == 0
    assert successor.completed() == [(report_id, 1)]
    with db.read() as session:
        tables = get_report_tables(session=session, report_id=report_id)
    assert {n: table_csv(f) for n, f in tables.items()} == _expected_csv(db, start, zone)


def test_sigterm_lets_the_current_report_finish_and_its_lease_holds_meanwhile(db, spawn, tmp_path):
    _seed(db)
    [(report_id, (start, zone))] = _queue(db, 1).items()
    gate = tmp_path / "gate"
    lease = 3.0
    busy = spawn(lease=lease, gate=gate)
    _wait_until(lambda: _held_by(db, busy), "the worker to claim the report", db)
    # computing it: a stop that lands between the claim and the computation hands it back
    _wait_until(lambda: Path(f"{gate}.entered").exists(), "the worker to compute it", db)
    idle = spawn(lease=lease)  # would take the report over if its lease lapsed

    busy.process.send_signal(signal.SIGTERM)
    time.sleep(2 * lease)  # two leases long: the heartbeat must keep the report held
    assert busy.process.poll() is None  # still finishing its report
    held = _held_by(db, busy)
    assert held is not None and held.id == report_id and held.attempts == 1

    gate.touch()
    assert busy.process.wait(timeout=GUARD_SECONDS) == 0
    assert busy.completed() == [(report_id, 1)]
    assert _stop(idle) == 0  # an idle worker stops at once on SIGTERM
    assert idle.completed() == [] and idle.stored("report.discarded") == []
    row = _rows(db)[report_id]
    assert row.status == "completed" and row.attempts == 1
    with db.read() as session:
        tables = get_report_tables(session=session, report_id=report_id)
    assert {n: table_csv(f) for n, f in tables.items()} == _expected_csv(db, start, zone)


def test_a_frozen_worker_that_wakes_after_losing_its_report_cannot_overwrite_it(
    db, spawn, tmp_path
):
    _seed(db)
    [(report_id, (start, zone))] = _queue(db, 1).items()
    gate = tmp_path / "gate"
    # a stall (VM paused, swapped out, ...) while computing, between two lease renewals
    frozen = spawn(lease=1.0, gate=gate, freeze=True)
    _wait_until(lambda: _held_by(db, frozen), "the worker to claim the report", db)
    _wait_until(lambda: _stopped(frozen), "the worker to freeze while computing it", db)
    try:
        successor = spawn(lease=1.0)
        _wait_until(
            lambda: _rows(db)[report_id].status == "completed",
            "another worker to take the report over",
            db,
        )
        with db.read() as session:
            stored = get_report_tables(session=session, report_id=report_id)
        taken_over = _rows(db)[report_id]
        assert taken_over.attempts == 2 and successor.completed() == [(report_id, 2)]
    finally:
        frozen.process.send_signal(signal.SIGCONT)
    gate.touch()  # the frozen worker now computes the report it no longer holds
    _wait_until(
        lambda: frozen.completed() or frozen.stored("report.discarded"),
        "the stale worker to end",
        db,
    )
    assert frozen.stored("report.discarded") == [(report_id, 1)] and frozen.completed() == []
    assert _stop(frozen) == 0 and _stop(successor) == 0
    after = _rows(db)[report_id]
    assert (after.status, after.attempts, after.claimed_by, after.finished_at) == (
        "completed",
        2,
        taken_over.claimed_by,
        taken_over.finished_at,
    )
    with db.read() as session:
        tables = get_report_tables(session=session, report_id=report_id)
    assert {n: table_csv(f) for n, f in tables.items()} == {
        n: table_csv(f) for n, f in stored.items()
    }
    assert {n: table_csv(f) for n, f in tables.items()} == _expected_csv(db, start, zone)
