"""The one evaluation of measurements against limits, pure Polars: a batch of samples and the
effective limits in, the excursions (raised, worst, cleared) out, carrying the alarms already
active from earlier batches; engine.py stores them. See docs/architecture.md#alarms."""

from __future__ import annotations

from typing import Final

import polars as pl

KEY = ["component_id", "measurement_type", "kind"]
# The in-memory engine: steps in order over the whole frame are what it runs directly, and a
# single post's batch of one row took 1.4x the CPU on the streaming engine ("auto").
IN_MEMORY: Final = "in-memory"
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


SERIES = ["component_id", "measurement_type"]
# The columns of a row of ``limits`` that the samples are compared with.
PARAMETERS = ["direction", "absolute", "limit", "deadband", "delay"]


def _first() -> pl.Expr:
    """True on the first sample of each threshold (the rows sorted by threshold, then time)."""
    return (pl.col("threshold") != pl.col("threshold").shift(1)).fill_null(True)


def _in_order(frame: pl.DataFrame) -> bool:
    """Whether ``frame`` is sorted by threshold, then strictly by time within each."""
    threshold, at = pl.col("threshold"), pl.col("timestamp_us")
    later = (threshold > threshold.shift(1)) | (
        (threshold == threshold.shift(1)) & (at > at.shift(1))
    )
    return bool(frame.select(later.fill_null(True).all()).item())


def _run_length() -> pl.Expr:
    """The position of each sample in its threshold's run of equal ``outside`` (1, 2, ...):
    its index less the index its run began at, with no window."""
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    began = pl.col("first") | (pl.col("outside") != pl.col("outside").shift(1)).fill_null(True)
    return index - pl.when(began).then(index).forward_fill() + 1


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
    """``worst_order`` of one value of an alarm of ``kind``, in Python: called for every
    excursion of a batch, where a Polars expression per value cost 250 us. A test holds it to
    ``worst_order`` for every kind (tests/alarms/test_pipeline.py)."""
    if kind.startswith("loading"):
        return abs(value)
    return -value if kind.startswith("low") else value


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
        .collect(engine=IN_MEMORY)
    )


def derive_excursions(
    samples: pl.DataFrame, limits: pl.DataFrame, carried: pl.DataFrame
) -> pl.DataFrame:
    """The excursions in ``samples`` (component_id, measurement_type, timestamp_us, value)
    against ``limits`` (core.alarms.limits.conditions), one row per alarm: its raise (or the
    carried alarm's, for an alarm active before the batch), its worst sample, and its clear
    (empty while it lasts). ``carried`` holds the alarms active before the batch's first
    sample (component_id, measurement_type, kind, raised_at_us).

    Each row of ``limits`` is a threshold, numbered by its row: the samples joined with the
    thresholds of their series are put in order of that one integer and time (three columns;
    the rest joined on after, in order), and each step that would be a window over a
    threshold is the same step over the whole frame, restarted on each threshold's first
    sample. Samples in time order within each series (an import's, sorted for writing) come
    out of the join in that order already, and are not sorted again."""
    thresholds = (
        limits.lazy()
        .with_row_index("threshold")
        .join(
            carried.lazy().select(*KEY, pl.col("raised_at_us").alias("carried_at")),
            on=KEY,
            how="left",
        )
        .collect(engine=IN_MEMORY)
        .lazy()
    )
    first = pl.col("first")
    was_carried = pl.col("carried_at").is_not_null().cast(pl.Int8)
    raised_here = ((pl.col("on") == 1) & (pl.col("was_on") == 0)).cast(pl.Int64)
    ordered = (
        samples.lazy()
        .cast(SAMPLES_SCHEMA)
        .join(thresholds.select("threshold", *SERIES), on=SERIES, maintain_order="right_left")
        .select("threshold", "timestamp_us", "value")
        .collect(engine=IN_MEMORY)
    )
    if not _in_order(ordered):
        ordered = ordered.sort("threshold", "timestamp_us")
    steps = (
        ordered.lazy()
        .join(
            thresholds.select("threshold", *PARAMETERS, "carried_at"),
            on="threshold",
            how="left",
            maintain_order="left",
        )
        .with_columns(excess().alias("excess"), _first().alias("first"))
        .with_columns((pl.col("excess") > 0).alias("outside"))
        .with_columns(_run_length().alias("run"))
        # a threshold starts from its carried state where its first sample keeps the state
        .with_columns(
            pl.when(first & signal().is_null())
            .then(was_carried)
            .otherwise(signal())
            .forward_fill()
            .alias("on")
        )
        .with_columns(
            pl.when(first).then(was_carried).otherwise(pl.col("on").shift(1)).alias("was_on")
        )
        # episodes counted from 0 (the carried alarm's) within each threshold
        .with_columns(raised_here.cum_sum().alias("raises"))
        .with_columns(
            (
                pl.col("raises")
                - pl.when(first).then(pl.col("raises") - raised_here).forward_fill()
            ).alias("episode")
        )
        .filter((pl.col("on") == 1) | (pl.col("was_on") == 1))
    )
    on = pl.col("on") == 1
    raised = on & (pl.col("was_on") == 0)
    worst = pl.when(on).then(pl.col("excess"))
    return (
        steps.group_by("threshold", "episode")
        .agg(
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
        .join(thresholds.select("threshold", *KEY, "severity", "limit"), on="threshold")
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
        .collect(engine=IN_MEMORY)
        .cast(EPISODES_SCHEMA)
    )
