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


def _listener_pids(database: Database, runner: ReportRunner) -> set[int]:
    """The backends listening for ``runner`` (they are named after it)."""
    with database.engine.connect() as connection:
        return set(
            connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE query = :listen AND application_name = :name"
                ),
                {
                    "listen": f"LISTEN {NOTIFY_CHANNEL}",
                    "name": f"gridboard listener {runner.worker_id}"[:63],
                },
            )
        )


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _completed(database: Database, report_id: int) -> bool:
    with database.read() as session:
        return get_report(session=session, report_id=report_id).status is ReportStatus.COMPLETED


def test_an_idle_runner_starts_a_new_report_at_once_not_at_its_next_poll(pg):
    runner = ReportRunner(pg, poll_seconds=600).start()
    try:
        _wait_for(lambda: len(_listener_pids(pg, runner)) == 1, "the runner never listened")
        time.sleep(1.0)  # its first look for work is over: it waits for a poll ten minutes off
        report_id = _request(pg)
        _wait_for(lambda: _completed(pg, report_id), "the runner did not wake for the report")
    finally:
        runner.stop(timeout=10)


def test_a_runner_whose_listening_connection_dies_listens_again(pg, caplog):
    runner = ReportRunner(pg, poll_seconds=600).start()
    try:
        _wait_for(lambda: len(_listener_pids(pg, runner)) == 1, "the runner never listened")
        (first,) = _listener_pids(pg, runner)
        with pg.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        _wait_for(
            lambda: _listener_pids(pg, runner) not in (set(), {first}),
            "the runner did not listen again",
        )
        assert "cannot listen for new reports" in caplog.text
        time.sleep(1.0)  # idle again, its next poll ten minutes off
        report_id = _request(pg)
        _wait_for(lambda: _completed(pg, report_id), "the runner did not wake for the report")
    finally:
        runner.stop(timeout=10)
