"""The one evaluation of measurements against limits, pure Polars: a batch of samples and the
effective limits in, the excursions (raised, worst, cleared) out, carrying the alarms already
active from earlier batches; engine.py stores them. See docs/architecture.md#alarms."""

from __future__ import annotations

import polars as pl

KEY = ["component_id", "measurement_type", "kind"]
SAMPLES_SCHEMA = pl.Schema(
    {
        "component_id": pl.Int64,
        "measurement_type": pl.String,
        "timestamp_us": pl.Int64,
        "value": pl.Float64,
    }
)
CARRIED_SCHEMA = pl.Schema(
    {
        "component_id": pl.Int64,
        "measurement_type": pl.String,
        "kind": pl.String,
        "raised_at_us": pl.Int64,
    }
)
EPISODES_SCHEMA = pl.Schema(
    {
        "component_id": pl.Int64,
        "measurement_type": pl.String,
        "kind": pl.String,
        "severity": pl.String,
        "limit": pl.Float64,
        "raised_at_us": pl.Int64,
        "cleared_at_us": pl.Int64,
        "worst_value": pl.Float64,
        "worst_at_us": pl.Int64,
        "worst_excess": pl.Float64,
    }
)


def excess() -> pl.Expr:
    """How far a sample is beyond its limit, in the measurement's units (> 0: outside)."""
    compared = pl.when(pl.col("absolute")).then(pl.col("value").abs()).otherwise(pl.col("value"))
    return pl.col("direction").cast(pl.Float64) * (compared - pl.col("limit"))


def worst_order(kind: pl.Expr, value: pl.Expr) -> pl.Expr:
    """How far a worst value is beyond its kind's limit, as an order (the larger, the worse):
    the highest for a high limit, the lowest for a low one, the largest magnitude for loading
    (power either way). The one definition: the engine keeps an alarm's worst sample by it,
    a report's limit violations theirs."""
    return (
        pl.when(kind.str.starts_with("loading"))
        .then(value.abs())
        .when(kind.str.starts_with("low"))
        .then(-value)
        .otherwise(value)
    )


def beyond(kind: str, value: float) -> float:
    """``worst_order`` of one value of an alarm of ``kind``."""
    order: float = pl.select(worst_order(pl.lit(kind), pl.lit(value, pl.Float64))).item()
    return order


def run_length(flag: str) -> pl.Expr:
    """The position of each sample in its run of equal ``flag`` values (1, 2, ...)."""
    run = (pl.col(flag) != pl.col(flag).shift(1)).fill_null(True).cum_sum().over(KEY)
    return pl.int_range(1, pl.len() + 1).over([*KEY, run])


def signal() -> pl.Expr:
    """1 where an alarm must be on (``delay`` samples outside in a row), 0 where it must be off
    (back inside by the deadband), empty where it keeps its state (inside the deadband)."""
    return (
        pl.when(pl.col("outside") & (pl.col("run") >= pl.col("delay")))
        .then(pl.lit(1, pl.Int8))
        .when(pl.col("excess") < -pl.col("deadband"))
        .then(pl.lit(0, pl.Int8))
    )


def reachable(samples: pl.DataFrame, limits: pl.DataFrame, active: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``limits`` that ``samples`` can raise or clear an alarm of: a sample of
    theirs is outside (from each series' highest and lowest value), or ``active`` (component_id,
    measurement_type, kind) holds an alarm of theirs. ``derive_excursions`` finds nothing for
    the others (nothing outside, nothing carried), so it may be given only these."""
    extremes = (
        samples.lazy()
        .group_by("component_id", "measurement_type")
        .agg(pl.col("value").max().alias("high"), pl.col("value").min().alias("low"))
    )
    high, low = pl.col("high"), pl.col("low")
    smallest_size = (
        pl.when((low <= 0) & (high >= 0))
        .then(pl.lit(0.0))
        .otherwise(pl.min_horizontal(low.abs(), high.abs()))
    )
    # the value furthest out each way: the largest above a limit, the smallest below one
    furthest = (
        pl.when(pl.col("direction") > 0)
        .then(
            pl.when(pl.col("absolute"))
            .then(pl.max_horizontal(low.abs(), high.abs()))
            .otherwise(high)
        )
        .otherwise(pl.when(pl.col("absolute")).then(smallest_size).otherwise(low))
    )
    outside = pl.col("direction").cast(pl.Float64) * (furthest - pl.col("limit")) > 0
    carried = active.lazy().select(KEY).unique().with_columns(pl.lit(True).alias("carried"))
    return (
        limits.lazy()
        .join(extremes, on=["component_id", "measurement_type"])
        .join(carried, on=KEY, how="left")
        .filter(outside | pl.col("carried").fill_null(False))
        .select(limits.columns)
        .collect()
    )


def derive_excursions(
    samples: pl.DataFrame, limits: pl.DataFrame, carried: pl.DataFrame
) -> pl.DataFrame:
    """The excursions in ``samples`` (component_id, measurement_type, timestamp_us, value)
    against ``limits`` (core.alarms.limits.conditions), one row per alarm: its raise (or the
    carried alarm's, for an alarm active before the batch), its worst sample, and its clear
    (empty while it lasts). ``carried`` holds the alarms active before the batch's first
    sample (component_id, measurement_type, kind, raised_at_us)."""
    carried_on = carried.lazy().select(*KEY, pl.col("raised_at_us").alias("carried_at"))
    steps = (
        samples.lazy()
        .cast(SAMPLES_SCHEMA)
        .join(limits.lazy(), on=["component_id", "measurement_type"])
        .sort([*KEY, "timestamp_us"])
        .with_columns(excess().alias("excess"))
        .with_columns((pl.col("excess") > 0).alias("outside"))
        .with_columns(run_length("outside").alias("run"))
        .join(carried_on, on=KEY, how="left")
        .with_columns(
            signal()
            .forward_fill()
            .over(KEY)
            .fill_null(pl.col("carried_at").is_not_null().cast(pl.Int8))
            .alias("on")
        )
        .with_columns(
            pl.col("on")
            .shift(1)
            .over(KEY)
            .fill_null(pl.col("carried_at").is_not_null().cast(pl.Int8))
            .alias("was_on")
        )
        .with_columns(
            ((pl.col("on") == 1) & (pl.col("was_on") == 0)).cum_sum().over(KEY).alias("episode")
        )
        .filter((pl.col("on") == 1) | (pl.col("was_on") == 1))
    )
    on = pl.col("on") == 1
    raised = on & (pl.col("was_on") == 0)
    worst = pl.when(on).then(pl.col("excess"))
    return (
        steps.group_by([*KEY, "episode"])
        .agg(
            pl.col("severity").first(),
            pl.col("limit").first(),
            pl.col("timestamp_us").filter(raised).first().alias("raised_at_us"),
            pl.col("carried_at").first(),
            pl.col("timestamp_us").filter(~on).first().alias("cleared_at_us"),
            pl.col("value")
            .sort_by(worst, descending=True, nulls_last=True, maintain_order=True)
            .first()
            .alias("worst_value"),
            pl.col("timestamp_us")
            .sort_by(worst, descending=True, nulls_last=True, maintain_order=True)
            .first()
            .alias("worst_at_us"),
            worst.max().alias("worst_excess"),
        )
        .with_columns(
            pl.when(pl.col("worst_excess").is_not_null()).then(pl.col("worst_value")),
            pl.when(pl.col("worst_excess").is_not_null()).then(pl.col("worst_at_us")),
            pl.when(pl.col("episode") == 0)
            .then(pl.col("carried_at"))
            .otherwise(pl.col("raised_at_us"))
            .alias("raised_at_us"),
        )
        .select(list(EPISODES_SCHEMA))
        .sort([*KEY, "raised_at_us"])
        .collect()
        .cast(EPISODES_SCHEMA)
    )
