"""Computing a report from the database: inventory now, measurements from rollups.

The period [start, end) is cut into spans of constant UTC offset in the report's zone (DST
changes end a span). Inside a span, the quarter-hour buckets that lie wholly in the period are
summed per local day by the database from ``measurement_rollups`` (a few hundred rows come
back, however many measurements there are); the partial buckets at the period's edges come
from raw measurements, summed per day by the database too. A span whose offset is not a whole
number of quarter hours (some zones before 1972) would have midnights inside buckets, so it is
counted from raw rows, and every zone gives exact days. One statement reads every span; what
comes back is combined into the tables by ``kpis``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.domain import ComponentType, MeasurementType
from core.errors import FieldProblem, InvalidInput
from core.models import Component, Measurement
from core.reports import kpis
from core.reports.zones import DAY_US, OffsetSpan, offset_spans, period_problem
from core.rollups import BUCKET_US
from core.timestamps import to_micros


@dataclass(frozen=True, slots=True)
class ComputedReport:
    tables: dict[str, pl.DataFrame]
    rollup_rows: int
    raw_rows: int


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """The IANA zone names both Python's zoneinfo and Polars know, for pickers and checks."""
    return frozenset(available_timezones() | {"UTC"})


def check_time_zone(name: str) -> str:
    """The IANA zone ``name`` (``UTC`` when blank), or ``InvalidInput`` naming it."""
    zone = name.strip() or "UTC"
    refusal = InvalidInput.single(
        "time_zone", f"{zone!r} is not an IANA time zone name (like Europe/Zurich or UTC)"
    )
    if zone not in time_zone_names():
        raise refusal
    try:
        ZoneInfo(zone)
        pl.Series([0]).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(zone)
    except (ZoneInfoNotFoundError, ValueError, pl.exceptions.PolarsError):
        raise refusal from None
    return zone


def check_period(start: datetime, end: datetime, time_zone: str = "UTC") -> None:
    """Refuse (``InvalidInput``) a period that is not [start, end) with offsets, or that is
    too long or reaches past the years 1 to 9999 in the (checked) ``time_zone``."""
    problems = []
    for label, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None:
            problems.append(FieldProblem(label, "must carry a time zone offset"))
    if not problems and start >= end:
        problems.append(
            FieldProblem("end", f"must be after start ({start.isoformat()} >= {end.isoformat()})")
        )
    bounds = None if problems else period_problem(start, end, time_zone)
    if bounds:
        problems.append(FieldProblem("period", bounds))
    if problems:
        raise InvalidInput(problems)


def read_inventory(session: Session) -> list[kpis.InventoryGroup]:
    """The components per type and voltage level, counted and summed by the database."""
    rows = session.execute(
        select(
            Component.component_type,
            Component.voltage_kv,
            func.count(),
            func.sum(Component.capacity_mva),
            func.sum(Component.length_km),
        ).group_by(Component.component_type, Component.voltage_kv)
    ).all()
    return [kpis.InventoryGroup(*row) for row in rows]


def _ceil_bucket(micros: int) -> int:
    return micros + (-micros) % BUCKET_US


def _floor_bucket(micros: int) -> int:
    return micros - micros % BUCKET_US


_PARTS_PER_STATEMENT = 400  # below SQLite's limit of 500 terms in one compound SELECT
# Keeps (timestamp + offset + shift) positive back to year 1, so SQL integer division floors.
_SHIFT_DAYS = 1_000_000
_COMPONENT_TYPES = ", ".join(f"'{kind.value}'" for kind in sorted(ComponentType))
_MEASUREMENT_TYPES = ", ".join(f"'{kind.value}'" for kind in sorted(MeasurementType))


def _day_number(column: str, offset: str) -> str:
    return f"({column} + :{offset} + {_SHIFT_DAYS * DAY_US}) / {DAY_US} - {_SHIFT_DAYS}"


def _rollup_part(number: int, dialect: str) -> str:
    """Whole quarter hours of one span, summed per local day from the rollups."""
    day = _day_number("bucket_us", f"offset_{number}")
    # SQLite reads the key (component type, measurement type, bucket) one range per type pair
    # when the leading columns are listed; PostgreSQL scans the period either way, and the
    # lists only cost it a comparison per row.
    every_type = (
        f" AND component_type IN ({_COMPONENT_TYPES})"
        f" AND measurement_type IN ({_MEASUREMENT_TYPES})"
        if dialect == "sqlite"
        else ""
    )
    return (
        f"SELECT 0 AS raw, component_type, measurement_type, {day} AS day_number,"
        " sum(sample_count), sum(value_sum), min(value_min), max(value_max)"
        " FROM measurement_rollups"
        f" WHERE bucket_us >= :low_{number} AND bucket_us < :high_{number}{every_type}"
        f" GROUP BY component_type, measurement_type, {day}"
    )


def _raw_part(number: int, dialect: str) -> str:
    """Raw measurements of one span (a period's partial buckets), summed per local day.

    Listing the measurement types lets the database answer from the key (component,
    measurement type, timestamp) with one range per component and type, not a table scan.
    PostgreSQL loops over the components by itself; SQLite scans every measurement (60 ms at
    1M rows) unless the component ids are a list too.
    """
    day = _day_number("m.timestamp_us", f"offset_{number}")
    every_component = (
        " AND m.component_id IN (SELECT id FROM components)" if dialect == "sqlite" else ""
    )
    return (
        f"SELECT 1 AS raw, c.component_type, m.measurement_type, {day} AS day_number,"
        " count(*), sum(m.value), min(m.value), max(m.value)"
        " FROM components c JOIN measurements m ON m.component_id = c.id"
        f" WHERE m.measurement_type IN ({_MEASUREMENT_TYPES}){every_component}"
        f" AND m.timestamp_us >= :low_{number} AND m.timestamp_us < :high_{number}"
        f" GROUP BY c.component_type, m.measurement_type, {day}"
    )


def _day_partials(
    session: Session, rollup_spans: list[OffsetSpan], raw_spans: list[OffsetSpan]
) -> tuple[list[kpis.DayPartial], int, int]:
    """Per local day and type pair, the sums of every span, in one statement; with how many
    day rows came from rollups and how many raw measurements were read."""
    dialect = session.get_bind().dialect.name
    parts: list[str] = []
    params: dict[str, int] = {}
    spans = [(span, False) for span in rollup_spans] + [(span, True) for span in raw_spans]
    for number, (span, raw) in enumerate(spans):
        if span.start_us >= span.end_us:
            continue
        parts.append(_raw_part(number, dialect) if raw else _rollup_part(number, dialect))
        params |= {
            f"offset_{number}": span.offset_us,
            f"low_{number}": span.start_us,
            f"high_{number}": span.end_us,
        }
    if not parts:
        return [], 0, 0
    partials: list[kpis.DayPartial] = []
    rollup_rows = raw_rows = 0
    # SQLite allows 500 terms in a compound SELECT: a zone that changes its offset often has
    # more parts than that within a century, read in a few statements (a day split between
    # two of them is combined like any other partial).
    for first in range(0, len(parts), _PARTS_PER_STATEMENT):
        statement = text(" UNION ALL ".join(parts[first : first + _PARTS_PER_STATEMENT]))
        for raw, *fields in session.execute(statement, params):
            partial = kpis.DayPartial(*fields)
            partials.append(partial)
            if raw:
                raw_rows += int(partial.sample_count)
            else:
                rollup_rows += 1
    return partials, rollup_rows, raw_rows


def compute_report(
    session: Session, *, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ComputedReport:
    """The four report tables for [start, end) with days in ``time_zone``."""
    zone = check_time_zone(time_zone)
    check_period(start, end, zone)
    inventory = read_inventory(session)

    served: list[OffsetSpan] = []
    raw_spans: list[OffsetSpan] = []
    for span in offset_spans(zone, to_micros(start), to_micros(end)):
        inner_low, inner_high = _ceil_bucket(span.start_us), _floor_bucket(span.end_us)
        if span.offset_us % BUCKET_US or inner_low >= inner_high:
            # local midnights would cut buckets in two: count this span from raw rows
            raw_spans.append(span)
            continue
        served.append(OffsetSpan(inner_low, inner_high, span.offset_us))
        raw_spans.append(OffsetSpan(span.start_us, inner_low, span.offset_us))
        raw_spans.append(OffsetSpan(inner_high, span.end_us, span.offset_us))

    partials, rollup_rows, raw_rows = _day_partials(session, served, raw_spans)
    tables = {
        kpis.COMPONENTS_BY_TYPE: kpis.components_by_type(inventory),
        kpis.TRANSFORMER_CAPACITY: kpis.transformer_capacity_by_voltage(inventory),
        kpis.LINE_LENGTH: kpis.line_length_by_voltage(inventory),
        kpis.DAILY_AVERAGES: kpis.daily_averages(partials),
    }
    return ComputedReport(tables=tables, rollup_rows=rollup_rows, raw_rows=raw_rows)


def count_measurements_between(session: Session, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Measurement.timestamp_us >= to_micros(start),
                Measurement.timestamp_us < to_micros(end),
            )
        )
        or 0
    )
