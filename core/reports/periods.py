"""Time periods people pick by name: report presets and chart windows, as [start, end).
See docs/design.md#reports and docs/architecture.md#the-grid-views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.measurements.rollups import BUCKET_US
from core.models import MeasurementRollup
from core.reports.compute import check_time_zone
from core.timestamps import (
    ONE_MICROSECOND,
    BadTimestamp,
    check_micros,
    from_micros,
    parse_written,
    to_micros,
)

PARTIAL_DAY = "partial_day"


class ReportPreset(StrEnum):
    LAST_7_DAYS = "last 7 days"
    LAST_30_DAYS = "last 30 days"
    ALL_DATA = "all data"
    TODAY_SO_FAR = "today so far"
    CUSTOM = "custom"


class SeriesWindow(StrEnum):
    LAST_DAY = "last day"
    LAST_7_DAYS = "last 7 days"
    LAST_30_DAYS = "last 30 days"
    ALL_DATA = "all data"
    CUSTOM = "custom"


# The days a named window spans, for report presets and chart windows alike.
_NAMED_DAYS = {"last day": 1, "last 7 days": 7, "last 30 days": 30}
_WINDOW_LENGTH = {w: timedelta(days=_NAMED_DAYS[w]) for w in SeriesWindow if w in _NAMED_DAYS}
_PRESET_DAYS = {p: _NAMED_DAYS[p] for p in ReportPreset if p in _NAMED_DAYS}


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


def period_moment(text: str, *, time_zone: str) -> datetime:
    """The instant (UTC) a bound of a report's period means, the one rule for the API, the
    command line and the dashboard: a date alone is its local midnight in ``time_zone``, a
    date and time without an offset that wall clock there, and one with an offset (or ``Z``)
    keeps its instant. ``BadTimestamp`` says why a text is none of these."""
    written = parse_written(text)
    if written.tzinfo is not None:
        return from_micros(check_micros(to_micros(written), text))
    return _local(written, ZoneInfo(check_time_zone(time_zone)), text)


def _local(wall_clock: datetime, zone: ZoneInfo, text: str) -> datetime:
    # fold 0: a wall clock that a daylight-saving change repeats is the first of the two, one
    # it skips is read with the offset before the change (so a skipped midnight is the day's
    # first instant).
    return from_micros(check_micros(to_micros(wall_clock.replace(tzinfo=zone)), text))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return _local(datetime.combine(day, time()), zone, day.isoformat())


def days_period(
    first_day: date, last_day: date, *, time_zone: str = "UTC"
) -> tuple[datetime, datetime]:
    """[first_day 00:00, the day after last_day 00:00) in ``time_zone``, as UTC datetimes."""
    if first_day > last_day:
        raise InvalidInput.single("period", "the first day must not be after the last day")
    zone = ZoneInfo(check_time_zone(time_zone))
    try:
        return _midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone)
    except (OverflowError, BadTimestamp):  # 9999-12-31 has no next day; the year 1 has no
        raise _outside_the_calendar(time_zone) from None  # midnight before it east of UTC


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
    """The [start, end) a preset means: whole days in ``time_zone`` that have ended by
    ``now`` ("last 7 days" is the seven days before today), or today from its midnight to
    ``now`` for ``TODAY_SO_FAR``. "All data" is the whole days the measurements cover."""
    zone = ZoneInfo(check_time_zone(time_zone))
    today = now.astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    if preset in _PRESET_DAYS:
        return days_period(
            today - timedelta(days=_PRESET_DAYS[preset]), yesterday, time_zone=zone.key
        )
    if preset is ReportPreset.TODAY_SO_FAR:
        return _midnight(today, zone), max(now, _midnight(today, zone) + ONE_MICROSECOND)
    if preset is ReportPreset.ALL_DATA:
        if span is None:
            raise InvalidInput.single(
                "period", "there are no measurements yet: import some, or pick a custom period"
            )
        # A day is whole when the data reaches into its first and its last hour (hourly
        # readings end at 23:00); in New York, UTC-aligned data starts at 20:00 the day
        # before, and that day is left out.
        try:
            first_seen = span.first.astimezone(zone)
            last_seen = span.last.astimezone(zone)
            first_day = first_seen.date() + timedelta(days=first_seen.hour >= 1)
            last_day = last_seen.date() - timedelta(days=last_seen.hour < 23)
        except OverflowError:  # data at the very start or end of the calendar, in this zone
            raise _outside_the_calendar(time_zone) from None
        last_day = min(last_day, yesterday)
        if first_day > last_day:
            raise InvalidInput.single(
                "period",
                f"the measurements cover no whole day in {time_zone}: pick a custom period",
            )
        return days_period(first_day, last_day, time_zone=zone.key)
    if custom is None or len(custom) != 2:
        raise InvalidInput.single("period", "pick the first and the last day of the period")
    return days_period(custom[0], custom[1], time_zone=time_zone)


def custom_days_shown_first(
    first: datetime, last: datetime, *, time_zone: str = "UTC", days: int = 7
) -> tuple[date, date]:
    """The days a custom chart range opens on: the last ``days`` days that hold data (in
    ``time_zone``), not the newest day alone, which may hold a single measurement."""
    zone = ZoneInfo(check_time_zone(time_zone))
    last_day = last.astimezone(zone).date()
    return max(first.astimezone(zone).date(), last_day - timedelta(days=days - 1)), last_day


def partial_days(
    start: datetime, end: datetime, *, time_zone: str, computed_at: datetime | None = None
) -> set[date]:
    """The local days of [start, end) in ``time_zone`` that the report does not cover whole:
    cut by the period's start or end, or not over yet when the report was ``computed_at``
    (a day that ended later was partial when it was summed)."""
    zone = ZoneInfo(check_time_zone(time_zone))
    covered_until = end if computed_at is None else min(end, computed_at)
    partial: set[date] = set()
    day = start.astimezone(zone).date()
    while _midnight(day, zone) < end:
        if _midnight(day, zone) < start or _midnight(day + timedelta(days=1), zone) > covered_until:
            partial.add(day)
        day += timedelta(days=1)
    return partial


def mark_partial_days(
    tables: Mapping[str, pl.DataFrame], days: set[date]
) -> dict[str, pl.DataFrame]:
    """Every table with a ``day`` column gains ``partial_day``: true for the ``days`` that
    ``partial_days`` found, so a reader (and a chart) sees which daily figures are short."""
    return {
        name: frame.with_columns(pl.col("day").is_in(sorted(days)).alias(PARTIAL_DAY))
        if "day" in frame.columns
        else frame
        for name, frame in tables.items()
    }


def series_window(
    window: SeriesWindow,
    *,
    first: datetime,
    last: datetime,
    custom: Sequence[date] | None = None,
    time_zone: str = "UTC",
) -> tuple[datetime, datetime]:
    """The [start, end) of a chart window over a series from ``first`` to ``last``; custom
    days are whole days in ``time_zone``."""
    end = last + ONE_MICROSECOND
    if window is SeriesWindow.ALL_DATA:
        return first, end
    if window is SeriesWindow.CUSTOM:
        if custom is None or len(custom) != 2:
            raise InvalidInput.single("time range", "pick the first and the last day")
        return days_period(custom[0], custom[1], time_zone=time_zone)
    return max(first, end - _WINDOW_LENGTH[window]), end
