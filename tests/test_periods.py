from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.errors import InvalidInput
from core.measurements.measurements import add_measurement
from core.reports.periods import (
    DataSpan,
    ReportPreset,
    SeriesWindow,
    measurement_span,
    partial_days,
    report_period,
    series_window,
)
from tests.factories import MANAGER, make_component

TICK = timedelta(microseconds=1)
NOW = datetime(2024, 5, 10, 22, 30, tzinfo=UTC)  # already May 11th in Zurich


def test_last_7_days_are_whole_days_in_the_zone_ending_at_todays_midnight():
    start, end = report_period(ReportPreset.LAST_7_DAYS, time_zone="Europe/Zurich", now=NOW)
    assert start == datetime(2024, 5, 3, 22, tzinfo=UTC)  # May 4th 00:00 +02:00
    assert end == datetime(2024, 5, 10, 22, tzinfo=UTC)  # May 11th 00:00 +02:00, today
    start, end = report_period(ReportPreset.LAST_30_DAYS, time_zone="UTC", now=NOW)
    assert (start, end) == (datetime(2024, 4, 10, tzinfo=UTC), datetime(2024, 5, 10, tzinfo=UTC))
    assert not partial_days(start, end, time_zone="UTC", computed_at=NOW)


def test_today_so_far_runs_from_todays_midnight_to_now_and_is_partial():
    start, end = report_period(ReportPreset.TODAY_SO_FAR, time_zone="Europe/Zurich", now=NOW)
    assert (start, end) == (datetime(2024, 5, 10, 22, tzinfo=UTC), NOW)
    assert partial_days(start, end, time_zone="Europe/Zurich") == {date(2024, 5, 11)}


def test_partial_days_are_those_cut_by_the_period_or_not_over_when_computed():
    new_york = "America/New_York"
    start, end = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 3, tzinfo=UTC)
    # in New York the UTC days begin and end at 20:00: the first and last local day are cut
    assert partial_days(start, end, time_zone=new_york) == {date(2024, 4, 30), date(2024, 5, 2)}
    assert partial_days(start, end, time_zone="UTC") == set()
    computed = datetime(2024, 5, 2, 12, tzinfo=UTC)  # the second day was still running
    assert partial_days(start, end, time_zone="UTC", computed_at=computed) == {date(2024, 5, 2)}


def test_all_data_covers_the_whole_days_the_measurements_cover():
    span = DataSpan(
        first=datetime(2024, 1, 1, 5, tzinfo=UTC), last=datetime(2024, 3, 1, 21, tzinfo=UTC)
    )
    assert report_period(ReportPreset.ALL_DATA, time_zone="UTC", now=NOW, span=span) == (
        datetime(2024, 1, 2, tzinfo=UTC),  # January 1st has no data before 05:00
        datetime(2024, 3, 1, tzinfo=UTC),  # March 1st none after 21:00
    )
    hourly = DataSpan(  # hourly readings from 00:00 to 23:00 cover their days
        first=datetime(2024, 1, 1, tzinfo=UTC), last=datetime(2024, 1, 2, 23, 14, tzinfo=UTC)
    )
    assert report_period(ReportPreset.ALL_DATA, time_zone="UTC", now=NOW, span=hourly) == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 3, tzinfo=UTC),
    )
    new_york = report_period(ReportPreset.ALL_DATA, time_zone="America/New_York", now=NOW,
                             span=hourly)  # fmt: skip
    assert new_york == (datetime(2024, 1, 1, 5, tzinfo=UTC), datetime(2024, 1, 2, 5, tzinfo=UTC))
    midnights = DataSpan(
        first=datetime(2024, 1, 1, tzinfo=UTC), last=datetime(2024, 3, 2, tzinfo=UTC) - TICK
    )
    assert report_period(ReportPreset.ALL_DATA, time_zone="UTC", now=NOW, span=midnights) == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 3, 2, tzinfo=UTC),
    )
    short = DataSpan(
        first=datetime(2024, 1, 1, 5, tzinfo=UTC), last=datetime(2024, 1, 1, 9, tzinfo=UTC)
    )
    with pytest.raises(InvalidInput, match="cover no whole day in UTC"):
        report_period(ReportPreset.ALL_DATA, time_zone="UTC", now=NOW, span=short)
    with pytest.raises(InvalidInput, match="no measurements yet"):
        report_period(ReportPreset.ALL_DATA, time_zone="UTC", now=NOW, span=None)


def test_custom_periods_need_two_days_in_order():
    days = (date(2024, 5, 1), date(2024, 5, 3))
    assert report_period(ReportPreset.CUSTOM, time_zone="UTC", now=NOW, custom=days) == (
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 4, tzinfo=UTC),
    )
    with pytest.raises(InvalidInput, match="first and the last day"):
        report_period(ReportPreset.CUSTOM, time_zone="UTC", now=NOW, custom=None)
    with pytest.raises(InvalidInput, match="must not be after"):
        report_period(ReportPreset.CUSTOM, time_zone="UTC", now=NOW, custom=days[::-1])
    with pytest.raises(InvalidInput, match="IANA"):
        report_period(ReportPreset.LAST_7_DAYS, time_zone="Mars/Olympus", now=NOW)


def test_series_windows_end_at_the_newest_measurement():
    first, last = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)
    tick = timedelta(microseconds=1)
    assert series_window(SeriesWindow.LAST_DAY, first=first, last=last) == (
        last + tick - timedelta(days=1),
        last + tick,
    )
    assert series_window(SeriesWindow.ALL_DATA, first=first, last=last) == (first, last + tick)
    short_first = last - timedelta(hours=2)
    assert series_window(SeriesWindow.LAST_30_DAYS, first=short_first, last=last)[0] == short_first


def test_measurement_span_reads_the_rollups(db):
    with db.read() as session:
        assert measurement_span(session=session) is None
    component = make_component(db)
    for moment in ("2024-05-01T10:07:00Z", "2024-05-03T08:00:00Z"):
        with db.write() as session:
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=component.id,
                measurement_type="power",
                timestamp=moment,
                value=1.0,
            )
    with db.read() as session:
        span = measurement_span(session=session)
    assert span is not None
    assert span.first == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert (
        datetime(2024, 5, 3, 8, 0, tzinfo=UTC)
        <= span.last
        < datetime(2024, 5, 3, 8, 15, tzinfo=UTC)
    )
