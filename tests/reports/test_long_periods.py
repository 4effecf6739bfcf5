"""Any period the form or the command line accepts computes, or is refused when asked for
with one sentence; a stored failure is a short sentence, never the SQL that failed.

A century (the longest period) in a zone with daylight saving is some 200 offset spans: more
parts than SQLite's 500-term limit on a compound SELECT; data at the years 1 and 9999 lies in
no century; an instant at 9999-12-31T23:59:59Z is in the year 10000 east of UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core.cli import main
from core.errors import InvalidInput
from core.measurements.measurement_store import write_measurements
from core.models import Report
from core.reports import jobs, kpis
from core.reports.compute import check_period
from core.reports.jobs import ReportStatus, generate_report, get_report, request_report
from core.reports.periods import ReportPreset, measurement_span, report_period
from core.reports.zones import MAX_PERIOD_DAYS, calendar_bounds
from core.timestamps import to_micros
from tests.factories import MANAGER, TRANSFORMER, make_component


def _measure(db, *moments: datetime) -> None:
    component = make_component(db, TRANSFORMER)
    frame = pl.DataFrame(
        {
            "component_id": [component.id] * len(moments),
            "measurement_type": ["voltage"] * len(moments),
            "timestamp_us": [to_micros(moment) for moment in moments],
            "value": [110.0 + index for index in range(len(moments))],
        }
    )
    with db.write() as session:
        write_measurements(session, frame, overwrite=False)


def _reports(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


def _one_sentence(error: InvalidInput) -> str:
    (problem,) = error.problems
    assert "\n" not in problem.reason and len(problem.reason) < 200
    return problem.reason


def test_a_century_in_a_zone_with_daylight_saving_computes(db):
    start = datetime(1950, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=MAX_PERIOD_DAYS)
    _measure(db, datetime(1950, 7, 1, 12, 7, tzinfo=UTC), datetime(2049, 7, 1, 12, 7, tzinfo=UTC))
    record = generate_report(db, actor=MANAGER, start=start, end=end, time_zone="America/New_York")
    assert record.status is ReportStatus.COMPLETED, record.error
    with db.read() as session:
        daily = jobs.get_report_tables(session=session, report_id=record.id)[kpis.DAILY_AVERAGES]
    assert daily["day"].to_list() == [date(1950, 7, 1), date(2049, 7, 1)]
    assert daily["sample_count"].to_list() == [1, 1]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Zurich"])
def test_a_period_longer_than_a_century_is_refused_when_asked(db, zone):
    start = datetime(1800, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        request_report(
            session=session,
            actor=MANAGER,
            start=start,
            end=datetime(2060, 1, 1, tzinfo=UTC),
            time_zone=zone,
        )
    assert _one_sentence(refused.value) == (
        "the period is 94,963 days long; a report covers at most 36,525 days (100 years)"
    )
    assert _reports(db) == 0


def test_all_data_from_year_1_to_9999_is_refused_with_one_sentence(db):
    _measure(db, datetime(1, 1, 1, 0, 15, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))
    with db.read() as session:
        span = measurement_span(session=session)
    start, end = report_period(
        ReportPreset.ALL_DATA, time_zone="UTC", now=datetime.now(UTC), span=span
    )
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        request_report(session=session, actor=MANAGER, start=start, end=end)
    assert "a report covers at most 36,525 days" in _one_sentence(refused.value)
    assert _reports(db) == 0


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "UTC"])
def test_all_data_at_the_last_instant_of_9999_is_refused_not_overflowing(db, zone):
    _measure(db, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    with db.read() as session:
        span = measurement_span(session=session)
    with pytest.raises(InvalidInput) as refused:
        report_period(ReportPreset.ALL_DATA, time_zone=zone, now=datetime.now(UTC), span=span)
    assert f"within the years 1 to 9999 in {zone}" in _one_sentence(refused.value)


def test_all_data_at_the_first_instant_of_year_1_west_of_utc_is_refused(db):
    _measure(db, datetime(1, 1, 1, tzinfo=UTC))
    with db.read() as session:
        span = measurement_span(session=session)
    with pytest.raises(InvalidInput, match="within the years 1 to 9999 in America/New_York"):
        report_period(
            ReportPreset.ALL_DATA, time_zone="America/New_York", now=datetime.now(UTC), span=span
        )


def test_the_last_days_of_9999_compute_where_they_exist(db):
    _measure(db, datetime(9999, 12, 31, 12, tzinfo=UTC))
    start, end = report_period(
        ReportPreset.CUSTOM,
        time_zone="America/New_York",  # west of UTC: its 9999-12-31 ends inside the calendar
        now=datetime.now(UTC),
        custom=[date(9999, 12, 30), date(9999, 12, 30)],
    )
    record = generate_report(db, actor=MANAGER, start=start, end=end, time_zone="America/New_York")
    assert record.status is ReportStatus.COMPLETED, record.error


def test_the_command_line_refuses_a_period_east_of_utc_past_9999(db, tmp_path, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    args = ["--database-url", url, "report", "--start", "9999-12-01T00:00:00Z"]
    code = main(
        [
            *args,
            "--end",
            "9999-12-31T23:59:59Z",
            "--tz",
            "Asia/Tokyo",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "the period must lie within the years 1 to 9999 in Asia/Tokyo" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert _reports(db) == 0


STATEMENT = "SELECT " + " UNION ALL ".join(["x"] * 5_000)


@pytest.mark.parametrize(
    ("error", "stored"),
    [
        # a driver's error is the database's domain error, without statement or values
        (
            OperationalError(STATEMENT, {"password_hash": "$2b$12$secret"}, Exception("boom")),
            "the database refused the operation: the database could not complete it",
        ),
        # any other error is named by its type only
        (
            RuntimeError(f"{STATEMENT} $2b$12$secret"),
            "internal error while computing (RuntimeError)",
        ),
    ],
    ids=["driver", "internal"],
)
def test_a_stored_failure_is_a_short_sentence_without_sql(db, monkeypatch, error, stored):
    def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(jobs.runner, "compute_report", fail)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    record = generate_report(db, actor=MANAGER, start=start, end=start + timedelta(days=1))
    with db.read() as session:
        message = get_report(session=session, report_id=record.id).error or ""
    assert record.status is ReportStatus.FAILED
    assert message.startswith(stored)
    assert "SELECT" not in message and "$2b$" not in message and len(message) < 300


def test_one_part_per_span_gives_the_same_report_as_one_per_type_pair(db, monkeypatch):
    """SQLite's statement holds one part per span and type pair, or one per span when that
    would pass SQLite's limit of 500 terms (a period of decades in a zone with DST): both
    shapes give the same days."""
    from core.reports import compute

    start = datetime(2023, 1, 1, tzinfo=UTC)
    moments = [
        start + timedelta(days=day, hours=hour) for day in range(0, 730, 7) for hour in (1, 13)
    ]
    _measure(db, *moments)
    end = datetime(2025, 1, 1, 0, 7, tzinfo=UTC)  # raw edges too

    def daily() -> pl.DataFrame:
        with db.read() as session:
            report = compute.compute_report(
                session, start=start, end=end, time_zone="Europe/Zurich"
            )
        return report.tables[kpis.DAILY_AVERAGES]

    whole = daily()
    monkeypatch.setattr(compute, "_SQLITE_MAX_PARTS", 0)
    assert daily().equals(whole)
    assert whole["sample_count"].sum() == len(moments)


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("UTC", datetime(9999, 12, 1, tzinfo=UTC), datetime(9999, 12, 31, 9, tzinfo=UTC)),
        ("Pacific/Kiritimati", datetime(1, 1, 1, tzinfo=UTC), datetime(1, 2, 1, tzinfo=UTC)),
        ("Etc/GMT+12", datetime(9999, 12, 1, tzinfo=UTC), datetime(9999, 12, 31, 13, tzinfo=UTC)),
    ],
)
def test_a_period_whose_last_or_first_local_day_has_no_neighbour_is_refused(db, zone, start, end):
    """Its days' midnights (partial days, buckets) would overflow when the report is read."""
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        request_report(session=session, actor=MANAGER, start=start, end=end, time_zone=zone)
    reason = _one_sentence(refused.value)
    assert reason.startswith(f"the period must lie within the years 1 to 9999 in {zone}: from ")
    assert _reports(db) == 0


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Tokyo"])
def test_the_widest_periods_accepted_are_read_back_whole(db, zone):
    """At each end of the range the refusal names, a report computes, and its tables and
    partial days read back."""
    first, last = calendar_bounds(zone)
    _measure(db, first + timedelta(hours=1), last - timedelta(hours=1))
    for start, end in ((first, first + timedelta(days=2)), (last - timedelta(days=2), last)):
        record = generate_report(db, actor=MANAGER, start=start, end=end, time_zone=zone)
        assert record.status is ReportStatus.COMPLETED, record.error
        with db.read() as session:
            tables = jobs.get_report_tables(session=session, report_id=record.id)
        daily = jobs.marked_tables(record, tables)[kpis.DAILY_AVERAGES]
        assert daily["sample_count"].sum() == 1
    outside = [(last - timedelta(days=1), last + timedelta(microseconds=1))]
    if first > datetime.min.replace(tzinfo=UTC):  # in UTC no instant is earlier
        outside.append((first - timedelta(microseconds=1), first + timedelta(days=1)))
    for start, end in outside:
        with pytest.raises(InvalidInput, match="within the years 1 to 9999"):
            check_period(start, end, zone)


def test_the_command_line_refuses_an_end_on_the_last_day_of_9999(db, tmp_path, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    code = main(
        [
            "--database-url", url, "report", "--start", "9999-12-01T00:00:00Z",
            "--end", "9999-12-31T09:00:00Z", "--out", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "the period must lie within the years 1 to 9999 in UTC: from 0001-01-01T00:00:00Z to "
        "9999-12-31T00:00:00Z" in err
    )
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert _reports(db) == 0
