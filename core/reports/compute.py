"""Computing a report from the database: inventory now, measurements from rollups.

The period [start, end) is split into the quarter-hour buckets that lie wholly inside it,
answered from ``measurement_rollups``, and the partial buckets at its edges, answered from raw
measurements. A bucket that a local midnight cuts in two (a time zone whose offset is not a
whole number of quarter hours, as some had before 1970) is answered from raw rows too, so
every zone gives exact days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import FieldProblem, InvalidInput
from core.models import Component, Measurement, MeasurementRollup
from core.reports import kpis
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


def _read_rollups(session: Session, low: int, high: int) -> pl.DataFrame:
    rows = session.execute(
        select(
            MeasurementRollup.component_type,
            MeasurementRollup.measurement_type,
            MeasurementRollup.bucket_us,
            MeasurementRollup.sample_count,
            MeasurementRollup.value_sum,
            MeasurementRollup.value_min,
            MeasurementRollup.value_max,
        ).where(MeasurementRollup.bucket_us >= low, MeasurementRollup.bucket_us < high)
    ).all()
    return pl.DataFrame(rows, schema=kpis.PARTIALS_SCHEMA, orient="row")


def _read_raw(session: Session, ranges: list[tuple[int, int]]) -> pl.DataFrame:
    """Raw measurements in the [low, high) ranges, with their component's type.

    The ``IN`` lists on the key's leading columns let the database answer with one index
    range scan per component and measurement type instead of scanning the table.
    """
    schema = {
        "component_type": pl.String(),
        "measurement_type": pl.String(),
        "timestamp_us": pl.Int64(),
        "value": pl.Float64(),
    }
    ids = list(session.scalars(select(Component.id)))
    found: list[tuple[object, ...]] = []
    if ids:
        for low, high in ranges:
            if low >= high:
                continue
            found.extend(
                session.execute(
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
                        Measurement.timestamp_us >= low,
                        Measurement.timestamp_us < high,
                    )
                ).all()
            )
    return pl.DataFrame(found, schema=schema, orient="row")


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def compute_report(
    session: Session, *, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ComputedReport:
    """The four report tables for [start, end) with days in ``time_zone``."""
    check_period(start, end)
    zone = check_time_zone(time_zone)
    low, high = to_micros(start), to_micros(end)
    inventory = read_inventory(session)

    inner_low, inner_high = _ceil_bucket(low), _floor_bucket(high)
    raw_ranges: list[tuple[int, int]] = []
    if inner_low < inner_high:
        buckets = _read_rollups(session, inner_low, inner_high)
        cut = buckets.with_columns(
            (
                kpis.local_day(pl.col("timestamp_us"), zone)
                != kpis.local_day(pl.col("timestamp_us") + (BUCKET_US - 1), zone)
            ).alias("cut")
        )
        buckets = cut.filter(~pl.col("cut")).drop("cut")
        straddling = cut.filter(pl.col("cut")).get_column("timestamp_us").unique().to_list()
        raw_ranges += [(bucket, bucket + BUCKET_US) for bucket in straddling]
        raw_ranges += [(low, inner_low), (inner_high, high)]
    else:
        buckets = pl.DataFrame(schema=kpis.PARTIALS_SCHEMA)
        raw_ranges.append((low, high))
    raw = _read_raw(session, _merge(raw_ranges))
    partials = pl.concat([buckets, kpis.raw_as_partials(raw)])
    tables = {
        kpis.COMPONENTS_BY_TYPE: kpis.components_by_type(inventory),
        kpis.TRANSFORMER_CAPACITY: kpis.transformer_capacity_by_voltage(inventory),
        kpis.LINE_LENGTH: kpis.line_length_by_voltage(inventory),
        kpis.DAILY_AVERAGES: kpis.daily_averages(partials, zone),
    }
    return ComputedReport(tables=tables, rollup_rows=buckets.height, raw_rows=raw.height)


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
