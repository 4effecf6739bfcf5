"""Measurement rollups: count, sum, min and max per component type, measurement type, quarter
hour and voltage level, kept exact by every write.
See docs/architecture.md#rollups-and-local-days."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from core import logs
from core.domain import Actor, require_manager
from core.driver_statements import DriverStatement
from core.models import Component, Measurement, MeasurementRollup
from core.timestamps import MINUTE_US

BUCKET_US = 15 * MINUTE_US
KEY = ["component_type", "measurement_type", "bucket_us", "voltage_kv"]
NO_LEVEL = 0.0  # the key's voltage of components without one (switches)
SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "measurement_type": pl.String(),
    "bucket_us": pl.Int64(),
    "voltage_kv": pl.Float64(),
    "sample_count": pl.Int64(),
    "value_sum": pl.Float64(),
    "value_min": pl.Float64(),
    "value_max": pl.Float64(),
}
_ROLLUP_LOCK_ID = 0x726F_6C6C  # "roll"
_MERGE_GAP_BUCKETS = 8

Micros = TypeVar("Micros", int, pl.Expr, npt.NDArray[np.int64])


def floor_bucket(micros: Micros) -> Micros:
    """The start of the 15-minute bucket holding ``micros`` (an int, a Polars expression or
    a numpy array). Python's, Polars' and numpy's ``%`` all floor, so this holds before 1970
    too; SQL's does not (``sql_bucket``)."""
    return micros - micros % BUCKET_US


def ceil_bucket(micros: int) -> int:
    """The first bucket start at or after ``micros``."""
    return micros + (-micros) % BUCKET_US


def sql_bucket(column: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[int]:
    """``floor_bucket`` in SQL. SQL's ``%`` keeps the sign of the dividend (-1 % 900 is -1),
    so a timestamp before 1970 would round up into the next bucket; adding the bucket and
    taking the remainder again makes it the floor's non-negative remainder."""
    return column - (((column % BUCKET_US) + BUCKET_US) % BUCKET_US)


_rollup_table = cast(Table, MeasurementRollup.__table__)
_rollup = _rollup_table.c
# Every writer of measurements takes it; a literal, so the statement has no parameters.
_LOCK = DriverStatement(
    select(func.pg_advisory_xact_lock(literal_column(str(_ROLLUP_LOCK_ID))).label("locked"))
)


def lock(session: Session) -> None:
    """Serialise rollup maintenance on PostgreSQL for the rest of the transaction (SQLite's
    writers are serialised by ``BEGIN IMMEDIATE`` already)."""
    if session.get_bind().dialect.name == "postgresql":
        _LOCK.first(session, {})


def level(voltage_kv: float | None) -> float:
    """The key's voltage for a component's ``voltage_kv``."""
    return NO_LEVEL if voltage_kv is None else float(voltage_kv)


def sql_level(
    column: ColumnElement[float | None] | InstrumentedAttribute[float | None],
) -> ColumnElement[float]:
    return func.coalesce(column, NO_LEVEL)


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def contributions(rows: pl.DataFrame) -> pl.DataFrame:
    """Rollup rows of ``rows`` (component_type, voltage_kv, measurement_type, timestamp_us,
    value; ``voltage_kv`` as the key has it)."""
    if rows.is_empty():
        return empty()
    return (
        rows.lazy()
        .group_by(
            "component_type",
            "measurement_type",
            floor_bucket(pl.col("timestamp_us")).alias("bucket_us"),
            "voltage_kv",
        )
        .agg(
            pl.len().cast(pl.Int64).alias("sample_count"),
            pl.col("value").sum().alias("value_sum"),
            pl.col("value").min().alias("value_min"),
            pl.col("value").max().alias("value_max"),
        )
        .select(list(SCHEMA))
        .collect()
    )


def fold(contributions: pl.DataFrame) -> pl.DataFrame:
    """One row per rollup key out of several contributions to the same keys."""
    return (
        contributions.lazy()
        .group_by(KEY)
        .agg(
            pl.col("sample_count").sum(),
            pl.col("value_sum").sum(),
            pl.col("value_min").min(),
            pl.col("value_max").max(),
        )
        .select(list(SCHEMA))
        .collect()
    )


def component_contributions(
    session: Session, component_id: int, component_type: str, voltage_kv: float | None
) -> pl.DataFrame:
    """The rollup rows that one component's measurements make up, computed by the database."""
    bucket = sql_bucket(Measurement.timestamp_us).label("bucket_us")
    rows = session.execute(
        select(
            Measurement.measurement_type,
            bucket,
            func.count(),
            func.sum(Measurement.value),
            func.min(Measurement.value),
            func.max(Measurement.value),
        )
        .where(Measurement.component_id == component_id)
        .group_by(Measurement.measurement_type, bucket)
    ).all()
    return pl.DataFrame(
        [
            (component_type, kind, bucket, level(voltage_kv), *stats)
            for kind, bucket, *stats in rows
        ],
        schema=SCHEMA,
        orient="row",
    )


def add(session: Session, added: pl.DataFrame) -> None:
    """Fold new measurements' contributions into the stored rollups, in the order of their
    unique key, so that the key's index grows at its end instead of at random places."""
    if added.is_empty():
        return
    columns = list(SCHEMA)
    _upsert(session.get_bind().dialect.name).run_many(
        session, columns, added.sort(KEY).select(columns).iter_rows()
    )


def add_one(
    session: Session,
    component_type: str,
    voltage_kv: float | None,
    measurement_type: str,
    timestamp_us: int,
    value: float,
) -> None:
    """Fold one new measurement into its rollup (the single-row path: no frame to build)."""
    bucket = floor_bucket(timestamp_us)
    row = (component_type, measurement_type, bucket, level(voltage_kv), 1, value, value, value)
    _upsert(session.get_bind().dialect.name).run(session, dict(zip(SCHEMA, row, strict=True)))


@functools.cache
def _upsert(dialect: str) -> DriverStatement:
    """Adds rollup rows (the columns of ``SCHEMA``) to their buckets."""
    postgres = dialect == "postgresql"
    statement = (pg_insert if postgres else sqlite_insert)(_rollup_table).values(
        {name: bindparam(name) for name in SCHEMA}
    )
    low, high = (func.least, func.greatest) if postgres else (func.min, func.max)
    new = statement.excluded
    return DriverStatement(
        statement.on_conflict_do_update(
            index_elements=KEY,
            set_={
                "sample_count": _rollup.sample_count + new.sample_count,
                "value_sum": _rollup.value_sum + new.value_sum,
                "value_min": low(_rollup.value_min, new.value_min),
                "value_max": high(_rollup.value_max, new.value_max),
            },
        )
    )


_KEYED = [f"key_{name}" for name in KEY]
_AT_KEY = [_rollup[name] == bindparam(keyed) for name, keyed in zip(KEY, _KEYED, strict=True)]
# bindparam names differ from the columns': SQLAlchemy keeps those for the SET clause.
_SUBTRACT = DriverStatement(
    update(_rollup_table)
    .values(
        sample_count=_rollup.sample_count - bindparam("removed_count"),
        value_sum=_rollup.value_sum - bindparam("removed_sum"),
    )
    .where(*_AT_KEY)
)
_DELETE = DriverStatement(delete(_rollup_table).where(*_AT_KEY))


def remove(session: Session, removed: pl.DataFrame) -> None:
    """Take removed measurements' contributions out; call after the raw rows changed."""
    if removed.is_empty():
        return
    _SUBTRACT.run_many(
        session,
        ["removed_count", "removed_sum", *_KEYED],
        removed.select("sample_count", "value_sum", *KEY).iter_rows(),
    )
    stored = _stored(session, removed)
    suspects = removed.join(stored, on=KEY, how="left", suffix="_stored").filter(
        pl.col("sample_count_stored").is_null()
        | (pl.col("sample_count_stored") <= 0)
        | (pl.col("value_min") <= pl.col("value_min_stored"))
        | (pl.col("value_max") >= pl.col("value_max_stored"))
    )
    recompute(session, suspects.select(KEY))


def _stored(session: Session, keys: pl.DataFrame) -> pl.DataFrame:
    """The stored rollup rows for ``keys``."""
    found: list[tuple[object, ...]] = []
    for (component_type, measurement_type, voltage_kv), group in keys.group_by(
        ["component_type", "measurement_type", "voltage_kv"]
    ):
        for low, high in _runs(group.get_column("bucket_us")):
            found.extend(
                session.execute(
                    select(*[getattr(MeasurementRollup, name) for name in SCHEMA]).where(
                        MeasurementRollup.component_type == component_type,
                        MeasurementRollup.measurement_type == measurement_type,
                        MeasurementRollup.bucket_us >= low,
                        MeasurementRollup.bucket_us < high,
                        MeasurementRollup.voltage_kv == voltage_kv,
                    )
                ).all()
            )
    return pl.DataFrame(found, schema=SCHEMA, orient="row")


def _runs(buckets: pl.Series) -> Iterator[tuple[int, int]]:
    """[low, high) ranges covering ``buckets``, merging those a few buckets apart."""
    ordered = buckets.unique().sort().to_list()
    if not ordered:
        return
    start = previous = ordered[0]
    for bucket in ordered[1:]:
        if bucket - previous > _MERGE_GAP_BUCKETS * BUCKET_US:
            yield start, previous + BUCKET_US
            start = bucket
        previous = bucket
    yield start, previous + BUCKET_US


def bucket_stats(session: Session, *where: ColumnElement[bool]) -> list[tuple[Any, ...]]:
    """(bucket, count, sum, min, max) of the raw measurements ``where`` selects, per
    quarter-hour bucket, computed by the database: what they add to their rollup rows."""
    bucket = sql_bucket(Measurement.timestamp_us)
    value = Measurement.value
    stats = select(bucket, func.count(), func.sum(value), func.min(value), func.max(value))
    return [tuple(row) for row in session.execute(stats.where(*where).group_by(bucket))]


def recompute(session: Session, keys: pl.DataFrame) -> None:
    """Replace the rollup rows of ``keys`` with values computed from raw measurements."""
    if keys.is_empty():
        return
    keys = keys.unique()
    fresh: list[tuple[object, ...]] = []
    for (component_type, measurement_type, voltage_kv), group in keys.group_by(
        ["component_type", "measurement_type", "voltage_kv"]
    ):
        ids = list(
            session.scalars(
                select(Component.id).where(
                    Component.component_type == component_type,
                    sql_level(Component.voltage_kv) == voltage_kv,
                )
            )
        )
        if not ids:
            continue
        for low, high in _runs(group.get_column("bucket_us")):
            rows = bucket_stats(
                session,
                Measurement.component_id.in_(ids),
                Measurement.measurement_type == measurement_type,
                Measurement.timestamp_us >= low,
                Measurement.timestamp_us < high,
            )
            fresh.extend(
                (component_type, measurement_type, bucket, voltage_kv, *stats)
                for bucket, *stats in rows
            )
    recomputed = pl.DataFrame(fresh, schema=SCHEMA, orient="row").join(keys, on=KEY, how="semi")
    _DELETE.run_many(session, _KEYED, keys.select(KEY).iter_rows())
    add(session, recomputed)


def _from_raw() -> Select[str, str, int, float, int, float, float, float]:
    """Every rollup row computed by the database from raw measurements."""
    bucket = sql_bucket(Measurement.timestamp_us)
    voltage = sql_level(Component.voltage_kv)
    return (
        select(
            Component.component_type,
            Measurement.measurement_type,
            bucket,
            voltage,
            func.count(),
            func.sum(Measurement.value),
            func.min(Measurement.value),
            func.max(Measurement.value),
        )
        .join(Component, Component.id == Measurement.component_id)
        .group_by(Component.component_type, Measurement.measurement_type, bucket, voltage)
    )


def rebuild(session: Session, *, actor: Actor | None = None) -> int:
    """Recompute every rollup from raw measurements; return how many rollup rows there are.

    ``actor`` is who asked (a manager, or the CLI's system actor); ``None`` only for GridBoard's
    own calls. It rewrites a whole table, so a user is refused like any other write.
    """
    if actor is not None:
        require_manager(actor, "rebuild the aggregates")
    started = time.perf_counter()
    lock(session)
    session.execute(delete(MeasurementRollup))
    session.execute(insert(MeasurementRollup).from_select(list(SCHEMA), _from_raw()))
    if session.get_bind().dialect.name == "postgresql":
        # Statistics for the rewritten table now, not when autovacuum gets to it: until then
        # the planner sorts a report's rows on disk instead of hashing them.
        session.execute(text("ANALYZE measurement_rollups"))
    count = int(session.scalar(select(func.count()).select_from(MeasurementRollup)) or 0)
    logs.on_commit(
        session,
        "aggregates.rebuild",
        user=actor.username if actor else None,
        started=started,
        rollup_rows=count,
    )
    return count


def differences(session: Session, *, tolerance: float = 1e-9) -> pl.DataFrame:
    """Rollup rows that disagree with raw data (empty when all agree); for checks and tests."""
    raw = pl.DataFrame(session.execute(_from_raw()).all(), schema=SCHEMA, orient="row")
    stored = pl.DataFrame(
        session.execute(select(*[getattr(MeasurementRollup, name) for name in SCHEMA])).all(),
        schema=SCHEMA,
        orient="row",
    )
    joined = raw.join(stored, on=KEY, how="full", coalesce=True, suffix="_stored")
    close = [
        (pl.col(name) - pl.col(f"{name}_stored")).abs()
        <= tolerance * pl.max_horizontal(pl.col(name).abs(), pl.lit(1.0))
        for name in ("value_sum", "value_min", "value_max")
    ]
    agree = (pl.col("sample_count") == pl.col("sample_count_stored")).fill_null(False)
    for condition in close:
        agree = agree & condition.fill_null(False)
    return joined.filter(~agree)
