"""PostgreSQL wakes idle runners: queueing or handing back a report sends NOTIFY at commit."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import make_url, text

from core.db import Database
from core.reports import jobs
from core.reports.jobs import NOTIFY_CHANNEL, ReportRunner, ReportStatus, get_report
from tests.factories import MANAGER
from tests.reports.test_jobs import T0, T1


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = Database.from_url(postgres_url)
    database.migrate()
    with database.engine.begin() as connection:
        connection.execute(text("TRUNCATE reports RESTART IDENTITY"))
    yield database
    database.dispose()


@pytest.fixture
def listener(postgres_url: str) -> Iterator[psycopg.Connection]:
    url = make_url(postgres_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        yield conn


def _notified(connection: psycopg.Connection) -> bool:
    return any(True for _ in connection.notifies(timeout=2.0, stop_after=1))


def _request(database: Database) -> int:
    with database.write() as session:
        return jobs.request_report(session=session, actor=MANAGER, start=T0, end=T1).id


def test_queueing_and_handing_back_a_report_notify_at_commit(pg, listener):
    with pg.write() as session:
        jobs.request_report(session=session, actor=MANAGER, start=T0, end=T1)
        session.flush()
        assert not any(True for _ in listener.notifies(timeout=0.2, stop_after=1))  # not yet
    assert _notified(listener)
    with pg.write() as session:
        held = jobs.claim(session=session, worker_id="stopping")
    assert held is not None and not any(True for _ in listener.notifies(timeout=0.2))
    assert jobs.release_claim(pg, held)
    assert _notified(listener)


def _listening(database: Database) -> bool:
    with database.engine.connect() as connection:
        return bool(
            connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE query = :listen"),
                {"listen": f"LISTEN {NOTIFY_CHANNEL}"},
            )
        )


def test_an_idle_runner_starts_a_new_report_at_once_not_at_its_next_poll(pg):
    runner = ReportRunner(pg, poll_seconds=600).start()
    try:
        deadline = time.monotonic() + 30
        while not _listening(pg):
            assert time.monotonic() < deadline, "the runner never listened"
            time.sleep(0.05)
        time.sleep(1.0)  # its first look for work is over: it waits for a poll ten minutes off
        report_id = _request(pg)
        deadline = time.monotonic() + 30
        while True:
            with pg.read() as session:
                if get_report(session=session, report_id=report_id).status is (
                    ReportStatus.COMPLETED
                ):
                    break
            assert time.monotonic() < deadline, "the runner did not wake for the new report"
            time.sleep(0.05)
    finally:
        runner.stop(timeout=10)
