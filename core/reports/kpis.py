"""The four report tables as pure Polars functions of their inputs (no database here).

Column names and order are the ones DESIGN.md fixes; rows are sorted, so the same inputs
always give the same bytes.
"""

from __future__ import annotations

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

INVENTORY_SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "capacity_mva": pl.Float64(),
    "voltage_kv": pl.Float64(),
    "length_km": pl.Float64(),
}

RAW_SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "measurement_type": pl.String(),
    "timestamp_us": pl.Int64(),
    "value": pl.Float64(),
}

# Partial aggregates per local day (days since 1970-01-01), from rollups or raw rows.
DAY_PARTIALS_SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "measurement_type": pl.String(),
    "day_number": pl.Int64(),
    "sample_count": pl.Int64(),
    "value_sum": pl.Float64(),
    "value_min": pl.Float64(),
    "value_max": pl.Float64(),
}


def components_by_type(inventory: pl.DataFrame) -> pl.DataFrame:
    """Every component type with its count (zero when the inventory has none of it)."""
    counts = inventory.group_by("component_type").agg(pl.len().cast(pl.Int64).alias("count"))
    every_type = pl.DataFrame({"component_type": sorted(t.value for t in ComponentType)})
    return (
        every_type.join(counts, on="component_type", how="left")
        .with_columns(pl.col("count").fill_null(0))
        .sort("component_type")
    )


def _per_voltage(
    inventory: pl.DataFrame, kind: ComponentType, field: str, count_name: str, total_name: str
) -> pl.DataFrame:
    return (
        inventory.lazy()
        .filter(pl.col("component_type") == kind.value)
        .group_by("voltage_kv")
        .agg(
            pl.len().cast(pl.Int64).alias(count_name),
            pl.col(field).sum().alias(total_name),
        )
        .sort("voltage_kv")
        .collect()
    )


def transformer_capacity_by_voltage(inventory: pl.DataFrame) -> pl.DataFrame:
    return _per_voltage(
        inventory,
        ComponentType.TRANSFORMER,
        "capacity_mva",
        "transformer_count",
        "total_capacity_mva",
    )


def line_length_by_voltage(inventory: pl.DataFrame) -> pl.DataFrame:
    return _per_voltage(inventory, ComponentType.LINE, "length_km", "line_count", "total_length_km")


def daily_averages(partials: pl.DataFrame) -> pl.DataFrame:
    """Mean, count, min and max per local day, measurement type and component type."""
    return (
        partials.lazy()
        .group_by("day_number", "measurement_type", "component_type")
        .agg(
            (pl.col("value_sum").sum() / pl.col("sample_count").sum()).alias("avg_value"),
            pl.col("sample_count").sum().cast(pl.Int64),
            pl.col("value_min").min().alias("min_value"),
            pl.col("value_max").max().alias("max_value"),
        )
        .with_columns(pl.col("day_number").cast(pl.Int32).cast(pl.Date).alias("day"))
        .sort("day", "measurement_type", "component_type")
        .select(list(SCHEMAS[DAILY_AVERAGES]))
        .collect()
    )


def raw_day_partials(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw measurements with their ``day_number``, summed per day like rollup rows."""
    return (
        raw.lazy()
        .group_by("component_type", "measurement_type", "day_number")
        .agg(
            pl.len().cast(pl.Int64).alias("sample_count"),
            pl.col("value").sum().alias("value_sum"),
            pl.col("value").min().alias("value_min"),
            pl.col("value").max().alias("value_max"),
        )
        .select(list(DAY_PARTIALS_SCHEMA))
        .collect()
    )
