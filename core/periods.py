"""Time periods people pick by name: report presets and chart windows, as [start, end).

Report periods are whole calendar days in the report's time zone; chart windows end at a
series' newest measurement, so "last 7 days" shows data even when the data stops in the past.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.models import MeasurementRollup
from core.reports.compute import check_time_zone
from core.rollups import BUCKET_US
from core.timestamps import from_micros

_ONE_MICROSECOND = timedelta(microseconds=1)


class ReportPreset(StrEnum):
    LAST_7_DAYS = "last 7 days"
    LAST_30_DAYS = "last 30 days"
    ALL_DATA = "all data"
    CUSTOM = "custom"


class SeriesWindow(StrEnum):
    LAST_DAY = "last day"
    LAST_7_DAYS = "last 7 days"
    LAST_30_DAYS = "last 30 days"
    ALL_DATA = "all data"
    CUSTOM = "custom"


_WINDOW_LENGTH = {
    SeriesWindow.LAST_DAY: timedelta(days=1),
    SeriesWindow.LAST_7_DAYS: timedelta(days=7),
    SeriesWindow.LAST_30_DAYS: timedelta(days=30),
}
_PRESET_DAYS = {ReportPreset.LAST_7_DAYS: 7, ReportPreset.LAST_30_DAYS: 30}


@dataclass(frozen=True, slots=True)
class DataSpan:
    """When the stored measurements begin and end (UTC, to the quarter hour)."""

    first: datetime
    last: datetime


def measurement_span(*, session: Session) -> DataSpan | None:
    """The span of all measurements, read from the few rollup rows; ``None`` when empty."""
    low, high = session.execute(
        select(func.min(MeasurementRollup.bucket_us), func.max(MeasurementRollup.bucket_us))
    ).one()
    if low is None or high is None:
        return None
    return DataSpan(first=from_micros(int(low)), last=from_micros(int(high) + BUCKET_US - 1))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def days_period(
    first_day: date, last_day: date, *, time_zone: str = "UTC"
) -> tuple[datetime, datetime]:
    """[first_day 00:00, the day after last_day 00:00) in ``time_zone``, as UTC datetimes."""
    if first_day > last_day:
        raise InvalidInput.single("period", "the first day must not be after the last day")
    zone = ZoneInfo(check_time_zone(time_zone))
    try:
        return _midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone)
    except OverflowError:  # 9999-12-31 has no next day; year 1 has no day before it
        raise _outside_the_calendar(time_zone) from None


def _outside_the_calendar(time_zone: str) -> InvalidInput:
    return InvalidInput.single(
        "period",
        f"the period must lie within the years 1 to 9999 in {time_zone}, with a day to "
        "spare at the end",
    )


def report_period(
    preset: ReportPreset,
    *,
    time_zone: str,
    now: datetime,
    span: DataSpan | None = None,
    custom: Sequence[date] | None = None,
) -> tuple[datetime, datetime]:
    """The [start, end) a preset means: whole days in ``time_zone``, today included."""
    zone = ZoneInfo(check_time_zone(time_zone))
    today = now.astimezone(zone).date()
    if preset in _PRESET_DAYS:
        return days_period(
            today - timedelta(days=_PRESET_DAYS[preset] - 1), today, time_zone=time_zone
        )
    if preset is ReportPreset.ALL_DATA:
        if span is None:
            raise InvalidInput.single(
                "period", "there are no measurements yet: import some, or pick a custom period"
            )
        try:
            first, last = span.first.astimezone(zone).date(), span.last.astimezone(zone).date()
        except OverflowError:  # data at the very start or end of the calendar, in this zone
            raise _outside_the_calendar(time_zone) from None
        return days_period(first, last, time_zone=time_zone)
    if custom is None or len(custom) != 2:
        raise InvalidInput.single("period", "pick the first and the last day of the period")
    return days_period(custom[0], custom[1], time_zone=time_zone)


def series_window(
    window: SeriesWindow,
    *,
    first: datetime,
    last: datetime,
    custom: Sequence[date] | None = None,
) -> tuple[datetime, datetime]:
    """The [start, end) of a chart window over a series from ``first`` to ``last``."""
    end = last + _ONE_MICROSECOND
    if window is SeriesWindow.ALL_DATA:
        return first, end
    if window is SeriesWindow.CUSTOM:
        if custom is None or len(custom) != 2:
            raise InvalidInput.single("time range", "pick the first and the last day")
        return days_period(custom[0], custom[1])
    return max(first, end - _WINDOW_LENGTH[window]), end
