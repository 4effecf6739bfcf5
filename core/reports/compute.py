"""Computing a report from the database: inventory now, measurements from rollups.

The period [start, end) is cut into spans of constant UTC offset in the report's zone (DST
changes end a span). Inside a span, the quarter-hour buckets that lie wholly in the period are
summed per local day by the database from ``measurement_rollups`` (a few hundred rows come
back, however many measurements there are); the partial buckets at the period's edges come
from raw measurements. A span whose offset is not a whole number of quarter hours (some zones
before 1972) would have midnights inside buckets, so it is counted from raw rows, and every
zone gives exact days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.errors import FieldProblem, InvalidInput
from core.models import Component, Measurement
from core.reports import kpis
from core.reports.zones import DAY_US, OffsetSpan, offset_spans
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


def check_period(start: datetime, end: datetime) -> None:
    problems = []
    for label, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None:
            problems.append(FieldProblem(label, "must carry a time zone offset"))
    if not problems and start >= end:
        problems.append(
            FieldProblem("end", f"must be after start ({start.isoformat()} >= {end.isoformat()})")
        )
    if problems:
        raise InvalidInput(problems)


def read_inventory(session: Session) -> pl.DataFrame:
    rows = session.execute(
        select(
            Component.component_type,
            Component.capacity_mva,
            Component.voltage_kv,
            Component.length_km,
        )
    ).all()
    return pl.DataFrame(rows, schema=kpis.INVENTORY_SCHEMA, orient="row")


def _ceil_bucket(micros: int) -> int:
    return micros + (-micros) % BUCKET_US


def _floor_bucket(micros: int) -> int:
    return micros - micros % BUCKET_US


# Keeps (timestamp + offset + shift) positive back to year 1, so SQL integer division floors.
_SHIFT_DAYS = 1_000_000

_ROLLUP_DAYS_SELECT = f"""
SELECT component_type, measurement_type,
       (bucket_us + :offset + {_SHIFT_DAYS * DAY_US}) / {DAY_US} - {_SHIFT_DAYS} AS day_number,
       sum(sample_count), sum(value_sum), min(value_min), max(value_max)
FROM measurement_rollups
WHERE bucket_us >= :low AND bucket_us < :high
"""
# SQLite reads the key (component type, measurement type, bucket) one range per type pair when
# the leading columns are listed; PostgreSQL scans the period either way, and the lists only
# cost it a comparison per row (7 ms against 13 ms for a 35-day report at 1M measurements).
_EVERY_TYPE = """
  AND component_type IN ('line', 'switch', 'transformer')
  AND measurement_type IN ('current', 'power', 'voltage')
"""
_ROLLUP_DAYS_GROUP = f"""
GROUP BY component_type, measurement_type,
         (bucket_us + :offset + {_SHIFT_DAYS * DAY_US}) / {DAY_US} - {_SHIFT_DAYS}
"""
_ROLLUP_DAYS_SQL = {
    "sqlite": _ROLLUP_DAYS_SELECT + _EVERY_TYPE + _ROLLUP_DAYS_GROUP,
    "postgresql": _ROLLUP_DAYS_SELECT + _ROLLUP_DAYS_GROUP,
}


def _rollup_days(session: Session, span: OffsetSpan) -> list[tuple[object, ...]]:
    """Per local day of one constant-offset span: the rollups' sums, counts and extremes."""
    rows = session.execute(
        text(_ROLLUP_DAYS_SQL[session.get_bind().dialect.name]),
        {"offset": span.offset_us, "low": span.start_us, "high": span.end_us},
    ).all()
    return [tuple(row) for row in rows]


def _read_raw(session: Session, spans: list[OffsetSpan]) -> pl.DataFrame:
    """Raw measurements in the spans, as per-day partials.

    The ``IN`` lists on the key's leading columns let the database answer with one index
    range scan per component and measurement type instead of scanning the table.
    """
    ids = list(session.scalars(select(Component.id)))
    frames = []
    for span in spans:
        if not ids or span.start_us >= span.end_us:
            continue
        rows = session.execute(
            select(
                Component.component_type,
                Measurement.measurement_type,
                Measurement.timestamp_us,
                Measurement.value,
            )
            .join(Component, Component.id == Measurement.component_id)
            .where(
                Measurement.component_id.in_(ids),
                Measurement.measurement_type.in_(["current", "power", "voltage"]),
                Measurement.timestamp_us >= span.start_us,
                Measurement.timestamp_us < span.end_us,
            )
        ).all()
        if rows:
            frames.append(
                pl.DataFrame(rows, schema=kpis.RAW_SCHEMA, orient="row").with_columns(
                    ((pl.col("timestamp_us") + span.offset_us) // DAY_US).alias("day_number")
                )
            )
    if not frames:
        return pl.DataFrame(schema={**kpis.RAW_SCHEMA, "day_number": pl.Int64()})
    return pl.concat(frames)


def compute_report(
    session: Session, *, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ComputedReport:
    """The four report tables for [start, end) with days in ``time_zone``."""
    check_period(start, end)
    zone = check_time_zone(time_zone)
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

    rollup_rows = [row for span in served for row in _rollup_days(session, span)]
    from_rollups = pl.DataFrame(rollup_rows, schema=kpis.DAY_PARTIALS_SCHEMA, orient="row")
    raw = _read_raw(session, raw_spans)
    tables = {
        kpis.COMPONENTS_BY_TYPE: kpis.components_by_type(inventory),
        kpis.TRANSFORMER_CAPACITY: kpis.transformer_capacity_by_voltage(inventory),
        kpis.LINE_LENGTH: kpis.line_length_by_voltage(inventory),
        kpis.DAILY_AVERAGES: kpis.daily_averages(
            pl.concat([from_rollups, kpis.raw_day_partials(raw)])
        ),
    }
    return ComputedReport(tables=tables, rollup_rows=len(rollup_rows), raw_rows=raw.height)


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
