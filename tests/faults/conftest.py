"""Helpers for the fault tests: the real ``gridboard`` command in a subprocess, data big enough
to catch it mid-write, and the checks a restarted application relies on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
from sqlalchemy import func, make_url, select

from core.db import Database
from core.measurements import rollups
from core.models import Measurement, MeasurementRollup, Report
from core.reports.jobs import ReportStatus
from tests.factories import make_component

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = 20


@pytest.fixture
def url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def gridboard(url: str, *args: str, env: dict[str, str] | None = None, **popen: Any) -> Any:
    """Start ``gridboard ARGS`` as an operator would, in its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", "--database-url", url, *args],
        cwd=ROOT,
        env={**os.environ, "GRIDBOARD_LOG_LEVEL": "WARNING", **(env or {})},
        **popen,
    )


def make_components(db: Database, count: int = COMPONENTS) -> None:
    for number in range(count):
        make_component(db, name=f"T{number}")


def measurements_csv(path: Path, *, per_component: int, components: int = COMPONENTS) -> Path:
    """A valid import file: ``per_component`` quarter-hours x 3 types for every component."""
    times = pl.datetime_range(
        pl.datetime(2024, 1, 1, time_zone="UTC"),
        pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(minutes=15 * (per_component - 1)),
        interval="15m",
        eager=True,
    )
    frame = (
        pl.DataFrame({"component_name": [f"T{n}" for n in range(components)]})
        .join(pl.DataFrame({"timestamp": times}), how="cross")
        .join(pl.DataFrame({"measurement_type": ["voltage", "current", "power"]}), how="cross")
        .with_columns(
            substation=pl.lit("Riverside"),
            timestamp=pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            # kV, A and MW plausible on the factories' transformer (110 kV, 40 MVA)
            value=(pl.int_range(pl.len()) % 997).cast(pl.Float64) / 100 + 50,
        )
        .select("component_name", "substation", "timestamp", "measurement_type", "value")
    )
    frame.write_csv(path)
    return path


def measurement_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Measurement)) or 0)


def rollup_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(MeasurementRollup)) or 0)


def reopen(url: str) -> Database:
    """The database as the application opens it after a restart (migrations included)."""
    database = Database.from_url(url)
    database.migrate()
    return database


def assert_consistent(url: str) -> None:
    """What a restart needs: rollups agree with raw data, and SQLite's file is sound."""
    database = reopen(url)
    try:
        with database.read() as session:
            assert rollups.differences(session).is_empty()
    finally:
        database.dispose()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(str(parsed.database)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@contextmanager
def claim_held(db: Database, url: str, process: subprocess.Popen[str]) -> Iterator[tuple[int, str]]:
    """Wait until ``process`` has claimed a report, then hold what it needs to store the result
    (SQLite's write lock, the report's row on PostgreSQL); yield the report's id and its status
    as seen under that lock.

    SQLite readers never wait, so a small report is computed in milliseconds: the lock is taken
    by spinning on ``BEGIN IMMEDIATE`` without a busy timeout (whose back-off sleeps for up to
    100 ms would let the runner store first), checking for the claim each time it is held.
    """
    parsed = make_url(url)
    query = "SELECT status, result_json IS NULL FROM reports WHERE id = "
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(parsed.database), timeout=0, isolation_level=None)
        try:
            while process.poll() is None:
                time.sleep(0.0002)  # leave the lock free most of the time: the runner needs it
                try:
                    connection.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:  # the runner writes (its claim): try again
                    continue
                claimed = connection.execute(
                    "SELECT id, status, result_json IS NULL FROM reports"
                    " WHERE status != 'pending' AND claimed_by LIKE ?",
                    (f"%:{process.pid}:%",),
                ).fetchone()
                if claimed is not None:
                    report_id, status, empty = claimed
                    assert empty, "a running report already has result rows"
                    yield report_id, status
                    return
                connection.rollback()
            raise AssertionError(f"the runner ended before claiming a report: {process.returncode}")
        finally:
            if connection.in_transaction:
                connection.rollback()
            connection.close()
    report_id = wait_for_claim(db, process)
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        row = connection.execute(query + "%s FOR UPDATE", (report_id,)).fetchone()
        assert row is not None and row[1], "a running report already has result rows"
        yield report_id, row[0]
        connection.rollback()


@contextmanager
def computation_held(url: str) -> Iterator[None]:
    """On PostgreSQL, the rollups locked against every reader: a runner that has claimed a
    report stays inside its computation until it is killed. (SQLite readers never wait; there
    the runner is caught by locking it out of storing its result: ``claim_held``.)"""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield
        return
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        connection.execute("LOCK TABLE measurement_rollups IN ACCESS EXCLUSIVE MODE")
        yield
        connection.rollback()


def wait_for_claim(db: Database, process: subprocess.Popen[str]) -> int:
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
