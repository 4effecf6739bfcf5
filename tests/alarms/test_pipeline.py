"""The pipeline of ``derive_excursions`` (one integer per threshold, no windows) against the
way it was first written (windows over the 3-column key) on generated batches: shuffled
samples of several series, thresholds of every shape, alarms carried in."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.alarms.evaluation import (
    CARRIED_SCHEMA,
    EPISODES_SCHEMA,
    KEY,
    SAMPLES_SCHEMA,
    beyond,
    derive_excursions,
    excess,
    signal,
    worst_order,
)
from core.alarms.records import AlarmKind

LIMITS_SCHEMA = pl.Schema(
    {
        "component_id": pl.Int64,
        "measurement_type": pl.String,
        "kind": pl.String,
        "severity": pl.String,
        "direction": pl.Int8,
        "absolute": pl.Boolean,
        "limit": pl.Float64,
        "deadband": pl.Float64,
        "delay": pl.Int64,
    }
)
SERIES = [(1, "voltage"), (1, "power"), (2, "voltage"), (3, "current")]
# (kind, severity, direction, absolute): what core.alarms.limits.conditions gives
SHAPES = [
    ("high_alarm", "alarm", 1, False),
    ("high_warning", "warning", 1, False),
    ("low_alarm", "alarm", -1, False),
    ("low_warning", "warning", -1, False),
    ("loading_alarm", "alarm", 1, True),
    ("loading_warning", "warning", 1, True),
]


def _run_length(flag: str) -> pl.Expr:
    """The position of each sample in its run of equal ``flag`` values (1, 2, ...)."""
    run = (pl.col(flag) != pl.col(flag).shift(1)).fill_null(True).cum_sum().over(KEY)
    return pl.int_range(1, pl.len() + 1).over([*KEY, run])


def _windowed(samples: pl.DataFrame, limits: pl.DataFrame, carried: pl.DataFrame) -> pl.DataFrame:
    """``derive_excursions`` as it was written first: sorted by the 3-column key, each step a
    window ``over`` it (the reference the faster pipeline must agree with)."""
    carried_on = carried.lazy().select(*KEY, pl.col("raised_at_us").alias("carried_at"))
    steps = (
        samples.lazy()
        .cast(SAMPLES_SCHEMA)
        .join(limits.lazy(), on=["component_id", "measurement_type"])
        .sort([*KEY, "timestamp_us"])
        .with_columns(excess().alias("excess"))
        .with_columns((pl.col("excess") > 0).alias("outside"))
        .with_columns(_run_length("outside").alias("run"))
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


thresholds = st.tuples(
    st.sampled_from(SERIES),
    st.sampled_from(SHAPES),
    st.sampled_from([-8.0, -3.0, 0.0, 2.0, 5.0, 9.5]),
    st.sampled_from([0.0, 0.5, 2.0]),
    st.integers(1, 4),
)


@settings(max_examples=300, deadline=None)
@given(
    limits=st.lists(thresholds, min_size=1, max_size=8, unique_by=lambda t: (t[0], t[1][0])),
    values=st.lists(
        st.tuples(st.sampled_from(SERIES), st.floats(-12, 12, allow_nan=False)),
        min_size=1, max_size=60,
    ),
    order=st.randoms(use_true_random=False),
    shuffled=st.booleans(),
    carried=st.lists(st.integers(0, 7), max_size=3, unique=True),
)  # fmt: skip
def test_the_pipeline_finds_the_excursions_the_windowed_one_finds(
    limits, values, order, shuffled, carried
):
    samples = pl.DataFrame(
        [(c, m, 10 * index, v) for index, ((c, m), v) in enumerate(values)],
        schema=SAMPLES_SCHEMA,
        orient="row",
    )
    rows = samples.rows()
    if shuffled:  # a batch in any order (earlier stored samples appended), else in time order
        order.shuffle(rows)
    samples = pl.DataFrame(rows, schema=SAMPLES_SCHEMA, orient="row")
    table = pl.DataFrame(
        [(c, m, kind, severity, direction, absolute, limit, deadband, delay)
         for (c, m), (kind, severity, direction, absolute), limit, deadband, delay in limits],
        schema=LIMITS_SCHEMA, orient="row",
    )  # fmt: skip
    keys = table.select(KEY).rows()
    carried_at = pl.DataFrame(
        [(*keys[i], -5 * i) for i in carried if i < len(keys)], schema=CARRIED_SCHEMA, orient="row"
    )
    assert derive_excursions(samples, table, carried_at).equals(
        _windowed(samples, table, carried_at)
    )


@pytest.mark.parametrize("kind", [kind.value for kind in AlarmKind])
@pytest.mark.parametrize("value", [-250.0, -1.5, 0.0, 0.25, 11.0, 1e9])
def test_the_worst_order_of_one_value_is_the_expression_s(kind, value):
    """``beyond`` (one value, in Python, for the engine) orders worst values as ``worst_order``
    (the Polars expression the reports use) does."""
    expected = pl.select(worst_order(pl.lit(kind), pl.lit(value, pl.Float64))).item()
    assert beyond(kind, value) == expected
