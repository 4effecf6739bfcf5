"""The four report tables, from the few rows the database sums for them (no database here).

Column names and order are the ones docs/design.md fixes; rows are sorted and a day's partial sums
are added exactly (``math.fsum``), so the same inputs always give the same bytes, whatever
order they come in.

The database does the heavy summing (``core.reports.compute``); what is left is a few hundred
rows per report (one per day and type pair), combined here in plain Python and handed out as
Polars frames. Polars runs even a tiny query on its thread pool, and each handoff to a pool
thread is a chance for the scheduler to park it behind another process: with report workers
on the same cores as their database, those handoffs cost more than the arithmetic, and two
workers stopped being twice as fast as one (bench/workers.py, bench/RESULTS.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import polars as pl

from core.domain import ComponentType

COMPONENTS_BY_TYPE = "components_by_type"
TRANSFORMER_CAPACITY = "transformer_capacity_by_voltage"
LINE_LENGTH = "line_length_by_voltage"
DAILY_AVERAGES = "daily_averages"
TABLES = (COMPONENTS_BY_TYPE, TRANSFORMER_CAPACITY, LINE_LENGTH, DAILY_AVERAGES)

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    COMPONENTS_BY_TYPE: {"component_type": pl.String(), "count": pl.Int64()},
    TRANSFORMER_CAPACITY: {
        "voltage_kv": pl.Float64(),
        "transformer_count": pl.Int64(),
        "total_capacity_mva": pl.Float64(),
    },
    LINE_LENGTH: {
        "voltage_kv": pl.Float64(),
        "line_count": pl.Int64(),
        "total_length_km": pl.Float64(),
    },
    DAILY_AVERAGES: {
        "day": pl.Date(),
        "measurement_type": pl.String(),
        "component_type": pl.String(),
        "avg_value": pl.Float64(),
        "sample_count": pl.Int64(),
        "min_value": pl.Float64(),
        "max_value": pl.Float64(),
    },
}

_EPOCH = date(1970, 1, 1)


class InventoryGroup(NamedTuple):
    """Components of one type at one voltage: how many, and their summed capacity and length
    (``None`` where the type has no such field)."""

    component_type: str
    voltage_kv: float | None
    components: int
    capacity_mva: float | None
    length_km: float | None


class DayPartial(NamedTuple):
    """Part of one local day's measurements of one type pair: from the rollups of the whole
    quarter hours in a span, or from the raw rows at its edges."""

    component_type: str
    measurement_type: str
    day_number: int  # days since 1970-01-01, in the report's zone
    sample_count: int
    value_sum: float
    value_min: float
    value_max: float


def _frame(name: str, rows: list[tuple[object, ...]]) -> pl.DataFrame:
    schema = SCHEMAS[name]
    columns: list[tuple[object, ...]] = list(zip(*rows, strict=True)) or [() for _ in schema]
    return pl.DataFrame(dict(zip(schema, columns, strict=True)), schema=schema)


def components_by_type(groups: Iterable[InventoryGroup]) -> pl.DataFrame:
    """Every component type with its count (zero when the inventory has none of it)."""
    counts = dict.fromkeys(sorted(t.value for t in ComponentType), 0)
    for group in groups:
        counts[group.component_type] += int(group.components)
    return _frame(COMPONENTS_BY_TYPE, list(counts.items()))


def _per_voltage(
    groups: Iterable[InventoryGroup], kind: ComponentType, field: str
) -> list[tuple[object, ...]]:
    """Count and total of ``field`` per voltage level (one group each), by rising voltage."""
    return sorted(
        (float(group.voltage_kv), int(group.components), float(getattr(group, field) or 0.0))
        for group in groups
        if group.component_type == kind.value and group.voltage_kv is not None
    )


def transformer_capacity_by_voltage(groups: Iterable[InventoryGroup]) -> pl.DataFrame:
    return _frame(
        TRANSFORMER_CAPACITY, _per_voltage(groups, ComponentType.TRANSFORMER, "capacity_mva")
    )


def line_length_by_voltage(groups: Iterable[InventoryGroup]) -> pl.DataFrame:
    return _frame(LINE_LENGTH, _per_voltage(groups, ComponentType.LINE, "length_km"))


@dataclass(slots=True)
class _Day:
    count: int
    sums: list[float]
    low: float
    high: float


def daily_averages(partials: Iterable[DayPartial]) -> pl.DataFrame:
    """Mean, count, min and max per local day, measurement type and component type."""
    days: dict[tuple[int, str, str], _Day] = {}
    for part in partials:
        key = (int(part.day_number), part.measurement_type, part.component_type)
        low, high = float(part.value_min), float(part.value_max)
        day = days.setdefault(key, _Day(0, [], low, high))
        day.count += int(part.sample_count)
        day.sums.append(float(part.value_sum))
        day.low, day.high = min(day.low, low), max(day.high, high)
    rows: list[tuple[object, ...]] = [
        (
            _EPOCH + timedelta(days=day_number),
            measurement_type,
            component_type,
            math.fsum(day.sums) / day.count,
            day.count,
            day.low,
            day.high,
        )
        for (day_number, measurement_type, component_type), day in sorted(days.items())
    ]
    return _frame(DAILY_AVERAGES, rows)
