"""The report tables as Polars expressions over the rows the database selected (no database
here), the same numbers whatever the row order. See docs/architecture.md#reports."""

from __future__ import annotations

import polars as pl

from core.domain import ComponentType
from core.reports import violations
from core.reports.violations import ALARM_SHARES as ALARM_SHARES
from core.reports.violations import LIMIT_VIOLATIONS as LIMIT_VIOLATIONS

COMPONENTS_BY_TYPE = "components_by_type"
TRANSFORMER_CAPACITY = "transformer_capacity_by_voltage"
LINE_LENGTH = "line_length_by_voltage"
DAILY_AVERAGES = "daily_averages"
DAILY_AVERAGES_BY_VOLTAGE = "daily_averages_by_voltage"
# The grid's inventory at the report's time (the API answers them under "summary").
INVENTORY_TABLES = (COMPONENTS_BY_TYPE, TRANSFORMER_CAPACITY, LINE_LENGTH)
TABLES = (
    *INVENTORY_TABLES,
    DAILY_AVERAGES,
    DAILY_AVERAGES_BY_VOLTAGE,
    LIMIT_VIOLATIONS,
    ALARM_SHARES,
)

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
    DAILY_AVERAGES_BY_VOLTAGE: {
        "day": pl.Date(),
        "measurement_type": pl.String(),
        "component_type": pl.String(),
        "voltage_kv": pl.Float64(),  # empty for components without a level (switches)
        "avg_value": pl.Float64(),
        "sample_count": pl.Int64(),
        "min_value": pl.Float64(),
        "max_value": pl.Float64(),
    },
    **violations.SCHEMAS,
}

# What the database hands over: the components, and per type pair, voltage level (null for
# none) and block of one local day (named by its first instant: a rollup's bucket start or a
# measurement's timestamp) the count, sum, min and max of the values.
INVENTORY_SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "voltage_kv": pl.Float64(),
    "capacity_mva": pl.Float64(),
    "length_km": pl.Float64(),
}
SAMPLES_SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "measurement_type": pl.String(),
    "voltage_kv": pl.Float64(),
    "instant_us": pl.Int64(),
    "sample_count": pl.Int64(),
    "value_sum": pl.Float64(),
    "value_min": pl.Float64(),
    "value_max": pl.Float64(),
}


def ordered_sum(column: str) -> pl.Expr:
    """The sum of ``column`` with its terms added smallest first: the same bits every time."""
    return pl.col(column).sort().sum()


def local_day(instant_us: pl.Expr, zone: str) -> pl.Expr:
    """The calendar day in ``zone`` of a UTC instant in microseconds (tz database offsets)."""
    return instant_us.cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(zone).dt.date()


def components_by_type(inventory: pl.LazyFrame) -> pl.LazyFrame:
    """Every component type with its count (zero when the inventory has none of it)."""
    every_type = pl.LazyFrame(
        {"component_type": sorted(kind.value for kind in ComponentType)},
        schema={"component_type": pl.String()},
    )
    counts = inventory.group_by("component_type").agg(pl.len().cast(pl.Int64).alias("count"))
    return (
        every_type.join(counts, on="component_type", how="left")
        .with_columns(pl.col("count").fill_null(0))
        .sort("component_type")
    )


def _per_voltage(
    inventory: pl.LazyFrame, kind: ComponentType, field: str, count: str, total: str
) -> pl.LazyFrame:
    """Count and total of ``field`` per voltage level of one type, by rising voltage."""
    return (
        inventory.filter(
            (pl.col("component_type") == kind.value) & pl.col("voltage_kv").is_not_null()
        )
        .group_by("voltage_kv")
        .agg(
            pl.len().cast(pl.Int64).alias(count),
            ordered_sum(field).fill_null(0.0).alias(total),
        )
        .sort("voltage_kv")
    )


def transformer_capacity_by_voltage(inventory: pl.LazyFrame) -> pl.LazyFrame:
    return _per_voltage(
        inventory,
        ComponentType.TRANSFORMER,
        "capacity_mva",
        "transformer_count",
        "total_capacity_mva",
    )


def line_length_by_voltage(inventory: pl.LazyFrame) -> pl.LazyFrame:
    return _per_voltage(inventory, ComponentType.LINE, "length_km", "line_count", "total_length_km")


def _day_statistics(samples: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Mean, count, min and max of the samples per ``keys`` (``day`` among them)."""
    return (
        samples.group_by(keys)
        .agg(
            pl.col("sample_count").sum(),
            ordered_sum("value_sum").alias("value_sum"),
            pl.col("value_min").min().alias("min_value"),
            pl.col("value_max").max().alias("max_value"),
        )
        .with_columns((pl.col("value_sum") / pl.col("sample_count")).alias("avg_value"))
        .sort(keys, nulls_last=True)
    )


def daily_averages(samples: pl.LazyFrame) -> pl.LazyFrame:
    """Mean, count, min and max per local day, measurement type and component type."""
    return _day_statistics(samples, ["day", "measurement_type", "component_type"]).select(
        list(SCHEMAS[DAILY_AVERAGES])
    )


def daily_averages_by_voltage(samples: pl.LazyFrame) -> pl.LazyFrame:
    """The same per voltage level too: an average over 110, 20 and 0.4 kV means nothing."""
    keys = ["day", "measurement_type", "component_type", "voltage_kv"]
    return _day_statistics(samples, keys).select(list(SCHEMAS[DAILY_AVERAGES_BY_VOLTAGE]))


def with_local_day(samples: pl.LazyFrame, zone: str) -> pl.LazyFrame:
    """``samples`` with the ``day`` in ``zone`` of each instant."""
    return samples.with_columns(local_day(pl.col("instant_us"), zone).alias("day"))


def report_tables(
    inventory: pl.LazyFrame,
    samples: pl.LazyFrame,
    zone: str,
    violation_plans: dict[str, pl.LazyFrame],
) -> dict[str, pl.DataFrame]:
    """Every report table, from one lazy plan collected once (``violation_plans``:
    ``core.reports.violations.violation_plans``)."""
    days = with_local_day(samples, zone)
    plans = {
        COMPONENTS_BY_TYPE: components_by_type(inventory),
        TRANSFORMER_CAPACITY: transformer_capacity_by_voltage(inventory),
        LINE_LENGTH: line_length_by_voltage(inventory),
        DAILY_AVERAGES: daily_averages(days),
        DAILY_AVERAGES_BY_VOLTAGE: daily_averages_by_voltage(days),
        **violation_plans,
    }
    typed = [
        plan.select(pl.col(name).cast(dtype) for name, dtype in SCHEMAS[table].items())
        for table, plan in plans.items()
    ]
    # The in-memory engine runs these few thousand rows with about 3 thread handoffs per
    # report; the streaming engine ("auto") made about 100, each one a chance for the
    # scheduler to park the report behind another worker (bench/JOURNAL.md).
    return dict(zip(plans, pl.collect_all(typed, engine="in-memory"), strict=True))
