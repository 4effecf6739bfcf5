"""The report lifecycle as managers and users see it on the Reports page."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import event, update

from core.errors import InvalidInput, MissingPermission
from core.grid.components import delete_component, update_component
from core.measurements.measurement_store import write_measurements
from core.models import Report
from core.reports import jobs, kpis
from core.reports.export import report_zip, table_csv
from core.reports.jobs import (
    ReportRunner,
    ReportStatus,
    UncancellableReport,
    UnfinishedReport,
    cancel_report,
    generate_report,
    get_report,
    get_report_tables,
    list_reports,
    request_report,
)
from core.reports.jobs import runner as report_runner
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, USER, make_component
from tests.report_runs import run_claimed, run_next

T0 = datetime(2024, 5, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=3)


def claim_next(**kwargs):
    """The id of the report ``jobs.claim`` claims, or ``None``."""
    held = jobs.claim(**kwargs)
    return None if held is None else held.report_id


def _seed(db):
    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE)
    rows = [
        (component.id, kind, int((T0 + timedelta(minutes=10 * i)).timestamp() * 1e6), float(i % 50))
        for component in (transformer, line)
        for kind in ("voltage", "power")
        for i in range(3 * 24 * 6)
    ]
    frame = pl.DataFrame(
        rows, schema=["component_id", "measurement_type", "timestamp_us", "value"], orient="row"
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)
    return transformer, line


def _request(db, actor=MANAGER, start=T0, end=T1, zone="UTC"):
    with db.write() as session:
        return request_report(session=session, actor=actor, start=start, end=end, time_zone=zone)


def _run_all(db):
    while run_next(db, "test-worker") is not None:
        pass


def _tables(db, report_id):
    with db.read() as session:
        return get_report_tables(session=session, report_id=report_id)


def test_request_returns_pending_and_a_runner_completes_it(db):
    _seed(db)
    record = _request(db)
    assert record.status is ReportStatus.PENDING and record.requested_by == MANAGER.username
    with pytest.raises(UnfinishedReport, match="pending"):
        _tables(db, record.id)
    _run_all(db)
    with db.read() as session:
        done = get_report(session=session, report_id=record.id)
    assert done.status is ReportStatus.COMPLETED
    assert done.started_at and done.finished_at and done.duration is not None
    tables = _tables(db, record.id)
    assert tables[kpis.COMPONENTS_BY_TYPE]["count"].to_list() == [1, 0, 1]
    daily = tables[kpis.DAILY_AVERAGES]
    assert daily.height == 3 * 2 * 2  # days x measurement types x component types
    assert daily["sample_count"].sum() == 2 * 2 * 3 * 24 * 6


def test_bad_requests_are_refused_when_asked(db):
    with pytest.raises(MissingPermission):
        _request(db, actor=USER)
    with pytest.raises(InvalidInput, match="after start"):
        _request(db, start=T1, end=T0)
    with pytest.raises(InvalidInput, match="after start"):
        _request(db, start=T0, end=T0)
    with pytest.raises(InvalidInput, match="IANA"):
        _request(db, zone="Europe/Atlantis")
    with db.read() as session:
        assert list_reports(session=session) == []


def test_empty_period_completes_with_empty_tables(db):
    record = _request(
        db, start=datetime(1999, 1, 1, tzinfo=UTC), end=datetime(1999, 2, 1, tzinfo=UTC)
    )
    _run_all(db)
    with db.read() as session:
        assert get_report(session=session, report_id=record.id).status is ReportStatus.COMPLETED
    assert _tables(db, record.id)[kpis.DAILY_AVERAGES].is_empty()


def test_same_inputs_give_byte_identical_csv(db):
    _seed(db)
    first, second = _request(db), _request(db)
    _run_all(db)
    a, b = _tables(db, first.id), _tables(db, second.id)
    for name in kpis.TABLES:
        assert table_csv(a[name]) == table_csv(b[name])
    assert table_csv(a[kpis.DAILY_AVERAGES]).decode().splitlines()[0] == (
        "day,measurement_type,component_type,avg_value,sample_count,min_value,max_value"
    )


def test_a_completed_report_never_changes(db):
    transformer, line = _seed(db)
    record = _request(db)
    _run_all(db)
    before = {name: table_csv(frame) for name, frame in _tables(db, record.id).items()}
    # later edits: a type change, a deletion, new measurements inside the period
    with db.write() as session:
        update_component(session=session, actor=MANAGER, component_id=line.id, fields=SWITCH)
        delete_component(session=session, actor=MANAGER, component_id=transformer.id)
    fresh_line = make_component(db, LINE, name="L-new")
    late = pl.DataFrame(
        {
            "component_id": [fresh_line.id, fresh_line.id],
            "measurement_type": ["power", "voltage"],
            "timestamp_us": [int((T0 + timedelta(hours=1)).timestamp() * 1e6)] * 2,
            "value": [1e6, -1e6],
        }
    )
    with db.write() as session:
        write_measurements(session, late, overwrite=False)
    make_component(db, TRANSFORMER, name="T-new")
    after = {name: table_csv(frame) for name, frame in _tables(db, record.id).items()}
    assert after == before
    # ...while a new report sees the new inventory
    fresh = _request(db)
    _run_all(db)
    fresh_tables = _tables(db, fresh.id)
    assert fresh_tables[kpis.COMPONENTS_BY_TYPE]["count"].to_list() == [1, 1, 1]
    assert fresh_tables[kpis.DAILY_AVERAGES]["max_value"].max() == 1e6


def test_failure_is_stored_with_a_readable_error(db, monkeypatch):
    def explode(*_args, **_kwargs):
        raise MemoryError("simulated")

    monkeypatch.setattr(report_runner, "compute_report", explode)
    record = _request(db)
    _run_all(db)
    with db.read() as session:
        failed = get_report(session=session, report_id=record.id)
    assert failed.status is ReportStatus.FAILED
    assert "MemoryError" in (failed.error or "") and "request the report again" in failed.error


def test_cancel_pending_and_running(db):
    _seed(db)
    pending = _request(db)
    with db.write() as session:
        assert cancel_report(session=session, actor=MANAGER, report_id=pending.id).status is (
            ReportStatus.CANCELLED
        )
    assert run_next(db, "w") is None  # nothing left to run

    running = _request(db)
    with db.write() as session:
        assert claim_next(session=session, worker_id="w1") == running.id
    with db.write() as session:
        cancel_report(session=session, actor=MANAGER, report_id=running.id)
    assert run_claimed(db, running.id, "w1") is ReportStatus.CANCELLED
    with db.write() as session, pytest.raises(UncancellableReport):
        cancel_report(session=session, actor=MANAGER, report_id=running.id)
    with db.write() as session, pytest.raises(MissingPermission):
        cancel_report(session=session, actor=USER, report_id=running.id)


def test_a_report_whose_runner_died_is_picked_up_again(db):
    _seed(db)
    record = _request(db)
    with db.write() as session:
        assert claim_next(session=session, worker_id="dead", lease_seconds=0.05) == record.id
    with db.write() as session:
        assert claim_next(session=session, worker_id="other") is None  # lease still valid
    time.sleep(0.1)
    assert run_next(db, "survivor") == record.id
    with db.read() as session:
        done = get_report(session=session, report_id=record.id)
    assert done.status is ReportStatus.COMPLETED and done.attempts == 2


def test_orphans_of_dead_local_processes_are_released_at_start(db):
    record = _request(db)
    with db.write() as session:
        claim_next(session=session, worker_id="x", lease_seconds=3600)
        session.execute(
            update(Report)
            .where(Report.id == record.id)
            .values(claimed_by=f"{socket.gethostname()}:999999:abc")
        )
    assert jobs.release_orphans(db) == [record.id]
    assert run_next(db, "new") == record.id


def test_a_report_that_kills_its_runner_fails_after_three_attempts(db):
    record = _request(db)
    for attempt in range(jobs.MAX_ATTEMPTS):
        with db.write() as session:
            assert (
                claim_next(session=session, worker_id=f"w{attempt}", lease_seconds=0.01)
                == record.id
            )
        time.sleep(0.02)
    with db.write() as session:
        assert claim_next(session=session, worker_id="last") is None
    with db.read() as session:
        failed = get_report(session=session, report_id=record.id)
    assert failed.status is ReportStatus.FAILED and "3 attempts" in (failed.error or "")


def test_background_runner_drains_several_requests(db):
    _seed(db)
    records = [_request(db) for _ in range(4)]
    runner = ReportRunner(db, poll_seconds=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.read() as session:
                statuses = {get_report(session=session, report_id=r.id).status for r in records}
            if statuses == {ReportStatus.COMPLETED}:
                break
            time.sleep(0.05)
    finally:
        runner.stop(timeout=10)
    assert statuses == {ReportStatus.COMPLETED}


def test_a_generated_report_is_listed_like_any_report(db):
    _seed(db)
    record = generate_report(db, actor=MANAGER, start=T0, end=T1, time_zone="Europe/Zurich")
    assert record.status is ReportStatus.COMPLETED
    with db.read() as session:
        assert [r.id for r in list_reports(session=session)] == [record.id]


def test_zip_holds_four_csvs_and_metadata(db):
    _seed(db)
    record = generate_report(db, actor=MANAGER, start=T0, end=T1)
    tables = _tables(db, record.id)
    data = report_zip(tables, record.metadata())
    assert data == report_zip(tables, record.metadata())  # deterministic
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"{name}.csv" for name in kpis.TABLES] + ["report.json"]
        )
        meta = json.loads(archive.read("report.json"))
        assert meta["id"] == record.id and meta["time_zone"] == "UTC"
        assert archive.read("daily_averages.csv") == table_csv(tables[kpis.DAILY_AVERAGES])


def test_a_runner_that_lost_its_lease_can_neither_renew_nor_store(db):
    _seed(db)
    record = _request(db)
    with db.write() as session:
        stale = jobs.claim(session=session, worker_id="stalled", lease_seconds=0.05)
    assert stale is not None and stale.attempt == 1
    time.sleep(0.1)
    with db.write() as session:
        current = jobs.claim(session=session, worker_id="other")
    assert current is not None and current.report_id == record.id and current.attempt == 2
    assert jobs.renew_lease(db, stale) is False
    assert jobs.release_claim(db, stale) is False
    # the stalled runner finishes late: its result is discarded, the report stays the other's
    assert run_claimed(db, record.id, "stalled", attempt=1) is ReportStatus.RUNNING
    with db.read() as session:
        row = session.get(Report, record.id)
        assert (row.claimed_by, row.result_json) == ("other", None)
    assert run_claimed(db, record.id, "other", attempt=2) is ReportStatus.COMPLETED
    stored = _tables(db, record.id)
    # ...and once completed, no late write of either can replace it
    assert run_claimed(db, record.id, "stalled", attempt=1) is ReportStatus.COMPLETED
    assert run_claimed(db, record.id, "other", attempt=2) is ReportStatus.COMPLETED
    with db.write() as session:
        assert jobs.claim(session=session, worker_id="third") is None
    after = _tables(db, record.id)
    assert {n: table_csv(f) for n, f in after.items()} == {
        n: table_csv(f) for n, f in stored.items()
    }
    with db.read() as session:
        assert get_report(session=session, report_id=record.id).attempts == 2


def test_the_same_runner_cannot_store_an_attempt_it_lost(db):
    record = _request(db)
    with db.write() as session:
        first = jobs.claim(session=session, worker_id="w", lease_seconds=0.05)
    time.sleep(0.1)
    with db.write() as session:
        second = jobs.claim(session=session, worker_id="w")
    assert first is not None and second is not None and first.attempt != second.attempt
    assert run_claimed(db, record.id, "w", attempt=first.attempt) is ReportStatus.RUNNING
    assert jobs.release_claim(db, second) is True


def test_a_handed_back_report_is_pending_again_and_not_counted_as_an_attempt(db):
    _seed(db)
    record = _request(db)
    with db.write() as session:
        held = jobs.claim(session=session, worker_id="stopping")
    assert held is not None and jobs.release_claim(db, held) is True
    with db.read() as session:
        back = get_report(session=session, report_id=record.id)
    assert (back.status, back.attempts, back.started_at) == (ReportStatus.PENDING, 0, None)
    assert run_next(db, "next") == record.id
    with db.read() as session:
        done = get_report(session=session, report_id=record.id)
    assert (done.status, done.attempts) == (ReportStatus.COMPLETED, 1)


def test_a_stopped_runner_hands_back_a_report_that_outlasts_its_grace(db, monkeypatch):
    record = _request(db)
    release = threading.Event()

    def blocked(*args, **kwargs):
        release.wait(30)
        raise RuntimeError("unblocked")

    monkeypatch.setattr(report_runner, "compute_report", blocked)
    runner = ReportRunner(db, poll_seconds=0.05, stop_grace_seconds=0).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.read() as session:
                if get_report(session=session, report_id=record.id).status is ReportStatus.RUNNING:
                    break
            time.sleep(0.02)
        runner.stop(timeout=30)
        with db.read() as session:
            back = get_report(session=session, report_id=record.id)
        assert (back.status, back.attempts) == (ReportStatus.PENDING, 0)
    finally:
        release.set()
    # the abandoned computation ends (here: fails) after the hand-back and changes nothing
    for thread in threading.enumerate():
        if thread.name == f"gridboard-report-{record.id}":
            thread.join(30)
    with db.read() as session:
        assert get_report(session=session, report_id=record.id).status is ReportStatus.PENDING


def test_a_stop_that_lands_just_after_a_claim_commits_still_hands_the_report_back(db, monkeypatch):
    """``gridboard worker`` exits when ``run`` returns: a claim committed but not yet noted by
    the runner must not be left ``running`` until its lease expires."""
    record = _request(db)
    claim = report_runner.claim
    runner = ReportRunner(db, poll_seconds=0.05, stop_grace_seconds=0, lease_seconds=600)

    def stop_once_committed(session):
        runner.request_stop()  # SIGTERM arrives right after the claim commits...
        time.sleep(0.5)  # ...and the stopping thread runs ahead of the claiming one

    def claim_then_stop(**kwargs):
        event.listen(kwargs["session"], "after_commit", stop_once_committed, once=True)
        return claim(**kwargs)

    monkeypatch.setattr(report_runner, "claim", claim_then_stop)
    runner.run()
    with db.read() as session:
        back = get_report(session=session, report_id=record.id)
    assert (back.status, back.attempts, back.started_at) == (ReportStatus.PENDING, 0, None)
    for thread in threading.enumerate():
        if thread.name == "gridboard-report-work":
            thread.join(30)


def test_cancelling_never_overwrites_a_completed_report(db):
    _seed(db)
    record = _request(db)
    _run_all(db)
    with db.write() as session, pytest.raises(UncancellableReport, match="completed"):
        cancel_report(session=session, actor=MANAGER, report_id=record.id)
    with db.read() as session:
        assert get_report(session=session, report_id=record.id).status is ReportStatus.COMPLETED
