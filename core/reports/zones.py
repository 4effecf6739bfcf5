"""A period cut into spans of constant UTC offset in one time zone, and the longest period a
report covers. See docs/architecture.md#rollups-and-local-days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.timestamps import DAY_US, ONE_MICROSECOND, SECOND_US, from_micros

_PROBE_US = DAY_US // 4  # transitions are months apart; probing four times a day finds them


# The longest period a report covers: a century. Longer periods (data from year 1 to 9999 as
# "all data") cut into thousands of offset spans and take minutes for no one's benefit.
MAX_PERIOD_DAYS = 36_525


def period_problem(start: datetime, end: datetime, zone_name: str) -> str | None:
    """Why [start, end) cannot be a report's period in the zone, as a sentence's end, or
    ``None``: longer than ``MAX_PERIOD_DAYS``, or local days outside the years 1 to 9999
    (an instant near either end can be in year 0 or 10000 in the zone)."""
    length = end - start
    if length > timedelta(days=MAX_PERIOD_DAYS):
        return (
            f"the period is {length.days:,} days long; a report covers at most "
            f"{MAX_PERIOD_DAYS:,} days (100 years)"
        )
    zone = ZoneInfo(zone_name)
    try:
        start.astimezone(zone)
        (end - ONE_MICROSECOND).astimezone(zone)
    except OverflowError:
        return f"the period must lie within the years 1 to 9999 in {zone_name}"
    return None


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
