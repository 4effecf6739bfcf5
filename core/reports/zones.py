"""A period cut into spans of constant UTC offset in one time zone, and the longest period a
report covers. See docs/architecture.md#rollups-and-local-days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.timestamps import DAY_US, ONE_MICROSECOND, SECOND_US, from_micros, iso_z

_PROBE_US = DAY_US // 4  # transitions are months apart; probing four times a day finds them


# The longest period a report covers: a century. Longer periods (data from year 1 to 9999 as
# "all data") cut into thousands of offset spans and take minutes for no one's benefit.
MAX_PERIOD_DAYS = 36_525


def period_problem(start: datetime, end: datetime, zone_name: str) -> str | None:
    """Why [start, end) cannot be a report's period in the zone, as a sentence's end, or
    ``None``: longer than ``MAX_PERIOD_DAYS``, or not within ``calendar_bounds``."""
    length = end - start
    if length > timedelta(days=MAX_PERIOD_DAYS):
        return (
            f"the period is {length.days:,} days long; a report covers at most "
            f"{MAX_PERIOD_DAYS:,} days (100 years)"
        )
    first, last = calendar_bounds(zone_name)
    if start < first or end > last:
        return (
            f"the period must lie within the years 1 to 9999 in {zone_name}: from "
            f"{iso_z(first)} to {iso_z(last)}"
        )
    return None


def calendar_bounds(zone_name: str) -> tuple[datetime, datetime]:
    """The earliest start and latest end (UTC) of a report in the zone: each local day it
    touches, and the midnight after it, must be a date Python can hold (its partial days and
    daily buckets are computed with them). The first local midnight of the year 1 that is an
    instant after 0001-01-01T00:00Z, and the local midnight that starts 9999-12-31."""
    zone = ZoneInfo(zone_name)
    try:
        first = datetime(1, 1, 1, tzinfo=zone).astimezone(UTC)
    except OverflowError:  # east of UTC, the year 1 begins before the first instant
        first = datetime(1, 1, 2, tzinfo=zone).astimezone(UTC)
    return first, datetime(9999, 12, 31, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OffsetSpan:
    start_us: int
    end_us: int
    offset_us: int


def _offset_us(zone: ZoneInfo, micros: int) -> int:
    offset = from_micros(micros).astimezone(zone).utcoffset() or timedelta(0)
    return offset // ONE_MICROSECOND


def offset_spans(zone_name: str, start_us: int, end_us: int) -> list[OffsetSpan]:
    """Spans of constant offset covering [start_us, end_us), in order."""
    zone = ZoneInfo(zone_name)
    spans: list[OffsetSpan] = []
    span_start = start_us
    current = _offset_us(zone, start_us)
    probe = start_us
    while probe < end_us:
        following = min(probe + _PROBE_US, end_us - 1)
        if following <= probe:
            break
        if _offset_us(zone, following) != current:
            # the first whole second with the new offset lies in (probe, following]
            low, high = probe // SECOND_US, -(-following // SECOND_US)
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_us(zone, middle * SECOND_US) == current:
                    low = middle
                else:
                    high = middle
            change = max(high * SECOND_US, span_start + 1)
            spans.append(OffsetSpan(span_start, change, current))
            span_start = change
            current = _offset_us(zone, change)
            probe = change
            continue
        probe = following
        if probe == end_us - 1:
            break
    spans.append(OffsetSpan(span_start, end_us, current))
    return spans
