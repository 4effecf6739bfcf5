"""A report's limit violations as Polars expressions over the alarms the database selected:
per component and kind, and each type and level's share of time in alarm, every alarm clipped
to the period. See docs/design.md#reports."""

from __future__ import annotations

import polars as pl

from core.alarms.evaluation import worst_order
from core.timestamps import SECOND_US

LIMIT_VIOLATIONS = "limit_violations"
ALARM_SHARES = "alarm_shares_by_voltage"

# An alarm's component and series, which a violation row keeps (its key, with its kind).
_ALARM_OF: dict[str, pl.DataType] = {
    "component_id": pl.Int64(),
    "component": pl.String(),
    "substation": pl.String(),
    "component_type": pl.String(),
    "voltage_kv": pl.Float64(),
    "measurement_type": pl.String(),
    "kind": pl.String(),
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    LIMIT_VIOLATIONS: {
        **_ALARM_OF,
        "alarm_count": pl.Int64(),
        "duration_s": pl.Float64(),
        "worst_value": pl.Float64(),
    },
    ALARM_SHARES: {
        "component_type": pl.String(),
        "voltage_kv": pl.Float64(),  # empty for components without a level (switches)
        "component_count": pl.Int64(),
        "alarm_s": pl.Float64(),
        "alarm_share_pct": pl.Float64(),
        "warning_or_alarm_s": pl.Float64(),
        "warning_or_alarm_share_pct": pl.Float64(),
    },
}

# What the database hands over: each limit alarm (communication lost is no limit's) that was
# active at some time in the period, with its component.
ALARMS_SCHEMA: dict[str, pl.DataType] = {
    **_ALARM_OF,
    "severity": pl.String(),
    "raised_at_us": pl.Int64(),
    "cleared_at_us": pl.Int64(),
    "worst_value": pl.Float64(),
}
ORDER = ["component_type", "voltage_kv", "substation", "component", "measurement_type", "kind"]


def clipped(alarms: pl.LazyFrame, start_us: int, end_us: int, now_us: int) -> pl.LazyFrame:
    """Each alarm's time inside [start, end): from its raise (or the start) to its clear (or,
    still active, ``now``; or the end), ``from_us`` and ``to_us`` (empty when none)."""
    until = pl.coalesce(pl.col("cleared_at_us"), pl.lit(now_us, pl.Int64))
    return alarms.with_columns(
        pl.max_horizontal(pl.col("raised_at_us"), pl.lit(start_us, pl.Int64)).alias("from_us"),
        pl.min_horizontal(until, pl.lit(end_us, pl.Int64)).alias("to_us"),
    ).with_columns(pl.max_horizontal(pl.col("to_us") - pl.col("from_us"), 0).alias("inside_us"))


def limit_violations(alarms: pl.LazyFrame) -> pl.LazyFrame:
    """Per component, measurement type and kind: how many alarms, their total time in the
    period (in seconds) and the worst value any of them reached."""
    keys = list(_ALARM_OF)
    worst_first = worst_order(pl.col("kind"), pl.col("worst_value"))
    return (
        alarms.filter(pl.col("inside_us") > 0)
        .group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("alarm_count"),
            (pl.col("inside_us").sum() / SECOND_US).alias("duration_s"),
            pl.col("worst_value")
            .sort_by(worst_first, descending=True, nulls_last=True)
            .first()
            .alias("worst_value"),
        )
        .sort(ORDER, nulls_last=True)
    )


def _union_us(alarms: pl.LazyFrame) -> pl.LazyFrame:
    """Per component, the time in the period when at least one of ``alarms`` was on (two
    alarms at once, a warning inside an alarm say, count once)."""
    spans = alarms.filter(pl.col("inside_us") > 0).sort("component_id", "from_us")
    reach = pl.col("to_us").cum_max().shift(1).over("component_id")
    return (
        spans.with_columns(
            (pl.col("from_us") > reach).fill_null(True).cum_sum().over("component_id").alias("run")
        )
        .group_by("component_id", "run")
        .agg(pl.col("from_us").min(), pl.col("to_us").max())
        .group_by("component_id")
        .agg((pl.col("to_us") - pl.col("from_us")).sum().alias("on_us"))
    )


def alarm_shares(inventory: pl.LazyFrame, alarms: pl.LazyFrame, period_us: int) -> pl.LazyFrame:
    """Per component type and voltage level: the components, their total time in alarm (an
    alarm's severity) and in a warning or an alarm, each as a share of their time in the
    period (components x period)."""
    levels = ["component_type", "voltage_kv"]
    of_component = alarms.select("component_id", *levels).unique()
    totals = []
    for name, chosen in (
        ("alarm_s", alarms.filter(pl.col("severity") == "alarm")),
        ("warning_or_alarm_s", alarms),
    ):
        totals.append(
            _union_us(chosen)
            .join(of_component, on="component_id")
            .group_by(levels)
            .agg((pl.col("on_us").sum() / SECOND_US).alias(name))
        )
    counts = inventory.group_by(levels).agg(pl.len().cast(pl.Int64).alias("component_count"))
    possible = pl.col("component_count") * (period_us / SECOND_US) / 100
    return (
        counts.join(totals[0], on=levels, how="left", nulls_equal=True)
        .join(totals[1], on=levels, how="left", nulls_equal=True)
        .with_columns(pl.col("alarm_s", "warning_or_alarm_s").fill_null(0.0))
        .with_columns(
            (pl.col("alarm_s") / possible).alias("alarm_share_pct"),
            (pl.col("warning_or_alarm_s") / possible).alias("warning_or_alarm_share_pct"),
        )
        .sort(levels, nulls_last=True)
    )


def violation_plans(
    inventory: pl.LazyFrame, alarms: pl.LazyFrame, start_us: int, end_us: int, now_us: int
) -> dict[str, pl.LazyFrame]:
    """Both tables' plans, typed, for ``kpis.report_tables`` to collect with the others."""
    inside = clipped(alarms, start_us, end_us, now_us)
    plans = {
        LIMIT_VIOLATIONS: limit_violations(inside),
        ALARM_SHARES: alarm_shares(inventory, inside, end_us - start_us),
    }
    return {
        name: plan.select(pl.col(column).cast(dtype) for column, dtype in SCHEMAS[name].items())
        for name, plan in plans.items()
    }
