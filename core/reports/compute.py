"""Computing a report: the database selects the period's rows (rollups, and raw rows at the
edges), Polars computes every table. See docs/architecture.md#reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl
from sqlalchemy import Select, Selectable, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from core.domain import ComponentType, MeasurementType
from core.errors import FieldProblem, InvalidInput
from core.measurements import rollups
from core.measurements.rollups import ceil_bucket, floor_bucket
from core.models import Alarm, Component, Measurement, MeasurementRollup, utc_now
from core.reports import kpis, violations
from core.reports.zones import OffsetSpan, offset_spans, period_problem
from core.timestamps import DAY_US, to_micros


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


def _inventory() -> Select[str, float | None, float | None, float | None]:
    """Every component's type, level, capacity and length (a few thousand rows at most)."""
    return select(
        Component.component_type, Component.voltage_kv, Component.capacity_mva, Component.length_km
    )


def _alarms(start_us: int, end_us: int) -> Selectable:
    """The limit alarms (not communication lost) on at some time in [start, end), with their
    components: a few rows per excursion, read by the alarms' time, not the measurements."""
    return (
        select(
            Alarm.component_id,
            Component.name.label("component"),
            Component.substation,
            Component.component_type,
            Component.voltage_kv,
            Alarm.measurement_type,
            Alarm.kind,
            Alarm.severity,
            Alarm.raised_at_us,
            Alarm.cleared_at_us,
            Alarm.worst_value,
        )
        .join(Component, Component.id == Alarm.component_id)
        .where(
            Alarm.kind != "communication_lost",
            Alarm.raised_at_us < end_us,
            or_(Alarm.cleared_at_us.is_(None), Alarm.cleared_at_us > start_us),
        )
    )


# Keeps (instant + offset + shift) positive back to year 1, so SQL integer division floors.
_SHIFT_DAYS = 1_000_000
# One part of the statement: raw or not, the type pair, the level, the block's first instant
# and its stats.
_Part = Select[bool, str, str, float, int, int, float, float, float]
_SQLITE_MAX_PARTS = 500
_COMPONENT_TYPES = sorted(kind.value for kind in ComponentType)
_MEASUREMENT_TYPES = sorted(kind.value for kind in MeasurementType)


def _local_day_block(instant: Any, span: OffsetSpan) -> Any:
    """Which local day of ``span`` (constant offset) ``instant`` falls in, as a number that
    only groups rows: the day itself is the one Polars gives the block's first instant.
    The shift keeps the dividend positive back to year 1, so integer division floors."""
    return (instant + (span.offset_us + _SHIFT_DAYS * DAY_US)) // DAY_US


def _rollup_part(span: OffsetSpan, dialect: str, pair: tuple[str, str] | None = None) -> _Part:
    """The rollups of the whole quarter hours of one span, pre-summed per key and local day
    (of one type ``pair`` only, when given)."""
    rollup = MeasurementRollup
    block = _local_day_block(rollup.bucket_us, span)
    stats = (
        func.min(rollup.bucket_us).label("instant_us"),
        func.sum(rollup.sample_count).label("sample_count"),
        func.sum(rollup.value_sum).label("value_sum"),
        func.min(rollup.value_min).label("value_min"),
        func.max(rollup.value_max).label("value_max"),
    )
    in_span = (rollup.bucket_us >= span.start_us, rollup.bucket_us < span.end_us)
    if pair is not None:
        component_type, measurement_type = pair
        return (
            select(
                literal(False).label("raw"),
                literal(component_type).label("component_type"),
                literal(measurement_type).label("measurement_type"),
                rollup.voltage_kv,
                *stats,
            )
            .where(
                rollup.component_type == component_type,
                rollup.measurement_type == measurement_type,
                *in_span,
            )
            .group_by(block, rollup.voltage_kv)
        )
    query: _Part = (
        select(
            literal(False).label("raw"),
            rollup.component_type,
            rollup.measurement_type,
            rollup.voltage_kv,
            *stats,
        )
        .where(*in_span)
        .group_by(rollup.component_type, rollup.measurement_type, rollup.voltage_kv, block)
    )
    # Listing the key's leading columns lets both databases read the key (component type,
    # measurement type, bucket) one range per type pair: a span without data (most of a
    # century's) costs an index probe, not a scan of every rollup row (PostgreSQL scanned
    # them once per span: 0.71 -> 0.18 s for a century's statement at 1M measurements).
    return query.where(
        rollup.component_type.in_(_COMPONENT_TYPES),
        rollup.measurement_type.in_(_MEASUREMENT_TYPES),
    )


def _rollup_parts(span: OffsetSpan, dialect: str, *, per_pair: bool) -> list[_Part]:
    """SQLite sorts a group's two type names for every rollup row it sums; one part per type
    pair leaves it a number and a level to sort (1.7x less CPU at 1M measurements)."""
    if not per_pair:
        return [_rollup_part(span, dialect)]
    return [
        _rollup_part(span, dialect, (component_type, measurement_type))
        for component_type in _COMPONENT_TYPES
        for measurement_type in _MEASUREMENT_TYPES
    ]


def _raw_part(span: OffsetSpan, dialect: str) -> _Part:
    """Raw measurements of one span (a period's partial quarter hours, or a whole span with
    an odd offset), pre-summed per key and local day.

    Listing the measurement types lets the database answer from the key (component,
    measurement type, timestamp) with one range per component and type, not a table scan.
    PostgreSQL loops over the components by itself; SQLite scans every measurement (60 ms at
    1M rows) unless the component ids are a list too.
    """
    block = _local_day_block(Measurement.timestamp_us, span)
    level = rollups.sql_level(Component.voltage_kv)
    query: _Part = (
        select(
            literal(True).label("raw"),
            Component.component_type,
            Measurement.measurement_type,
            level.label("voltage_kv"),
            func.min(Measurement.timestamp_us).label("instant_us"),
            func.count().label("sample_count"),
            func.sum(Measurement.value).label("value_sum"),
            func.min(Measurement.value).label("value_min"),
            func.max(Measurement.value).label("value_max"),
        )
        .join(Component, Component.id == Measurement.component_id)
        .where(
            Measurement.measurement_type.in_(_MEASUREMENT_TYPES),
            Measurement.timestamp_us >= span.start_us,
            Measurement.timestamp_us < span.end_us,
        )
        .group_by(Component.component_type, Measurement.measurement_type, level, block)
    )
    if dialect == "sqlite":
        query = query.where(Measurement.component_id.in_(select(Component.id)))
    return query


def _spans(zone: str, start_us: int, end_us: int) -> tuple[list[OffsetSpan], list[OffsetSpan]]:
    """The period cut into what the rollups answer (whole quarter hours in spans whose offset
    is a whole number of quarter hours) and what raw rows answer (the rest)."""
    served: list[OffsetSpan] = []
    raw: list[OffsetSpan] = []
    for span in offset_spans(zone, start_us, end_us):
        inner_low, inner_high = ceil_bucket(span.start_us), floor_bucket(span.end_us)
        if floor_bucket(span.offset_us) != span.offset_us or inner_low >= inner_high:
            # local midnights would cut buckets in two: count this span from raw rows
            raw.append(span)
            continue
        served.append(OffsetSpan(inner_low, inner_high, span.offset_us))
        raw.append(OffsetSpan(span.start_us, inner_low, span.offset_us))
        raw.append(OffsetSpan(inner_high, span.end_us, span.offset_us))
    return served, [span for span in raw if span.start_us < span.end_us]


def read_frame(session: Session, query: Selectable, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The rows of ``query`` as a frame of ``schema``, read in the session's transaction."""
    return pl.read_database(query, session.connection(), schema_overrides=schema)


def _samples(session: Session, served: list[OffsetSpan], raw: list[OffsetSpan]) -> pl.DataFrame:
    """Rollup rows of the served spans and raw sums of the others, in one statement."""
    dialect = session.get_bind().dialect.name
    pairs = len(_COMPONENT_TYPES) * len(_MEASUREMENT_TYPES)
    # SQLite refuses a statement of more than 500 parts (a period of decades, in a zone
    # with DST): such a period gets one part per span instead.
    per_pair = dialect == "sqlite" and len(served) * pairs + len(raw) <= _SQLITE_MAX_PARTS
    parts = [part for span in served for part in _rollup_parts(span, dialect, per_pair=per_pair)]
    parts += [_raw_part(span, dialect) for span in raw]
    schema = {"raw": pl.Boolean(), **kpis.SAMPLES_SCHEMA}
    if not parts:
        return pl.DataFrame(schema=schema)
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    return read_frame(session, query, schema)


def compute_report(
    session: Session, *, start: datetime, end: datetime, time_zone: str = "UTC"
) -> ComputedReport:
    """The report tables for [start, end) with days in ``time_zone``."""
    zone = check_time_zone(time_zone)
    check_period(start, end, zone)
    inventory = read_frame(session, _inventory(), kpis.INVENTORY_SCHEMA)
    start_us, end_us = to_micros(start), to_micros(end)
    served, raw = _spans(zone, start_us, end_us)
    samples = _samples(session, served, raw)
    alarms = read_frame(session, _alarms(start_us, end_us), violations.ALARMS_SCHEMA)
    from_raw = samples.get_column("raw")
    levelled = (
        samples.lazy()
        .drop("raw")
        .with_columns(pl.col("voltage_kv").replace(rollups.NO_LEVEL, None))
    )
    plans = violations.violation_plans(
        inventory.lazy(), alarms.lazy(), start_us, end_us, to_micros(utc_now())
    )
    tables = kpis.report_tables(inventory.lazy(), levelled, zone, plans)
    return ComputedReport(
        tables=tables,
        rollup_rows=int((~from_raw).sum()),
        raw_rows=int(samples.filter(from_raw).get_column("sample_count").sum()),
    )
