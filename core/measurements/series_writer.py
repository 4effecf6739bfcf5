"""The seed's bulk path: whole evenly spaced series known to be new, written in the order of
the unique index (on SQLite one ``INSERT ... SELECT`` over ``json_each`` per series), with
their rollups summed once. See docs/architecture.md#storage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy.orm import Session

from core.driver_statements import driver_connection
from core.measurements import rollups
from core.measurements.measurement_store import COLUMNS, component_types, copy_csv

# Rollup contributions kept in memory before they are folded together, and written out when
# folding does not shrink them (long series: most of their buckets are new).
_PENDING_ROLLUP_ROWS = 200_000
# One statement per series: its values arrive as a JSON array of whole numbers of
# 10**-decimals, and ``json_each`` turns them into rows inside SQLite.
_SERIES_INSERT_SQLITE = (
    f"INSERT INTO measurements ({COLUMNS}) SELECT ?, ?, ? + key * ?, value / ? FROM json_each(?)"
)


@dataclass(frozen=True, slots=True)
class SeriesBlock:
    """Evenly spaced values of one measurement type for several components: row ``i`` of
    ``values`` belongs to ``component_ids[i]`` and column ``j`` is at
    ``first_us + j * cadence_us``. Every value is a whole multiple of ``10**-decimals`` (as
    ``numpy.round(x, decimals)`` makes them), which lets SQLite receive exact integers."""

    component_ids: npt.NDArray[np.int64]
    measurement_type: str
    first_us: int
    cadence_us: int
    values: npt.NDArray[np.float64]
    decimals: int

    @property
    def size(self) -> int:
        return int(self.values.size)

    def timestamps(self) -> npt.NDArray[np.int64]:
        steps = np.arange(self.values.shape[1], dtype=np.int64)
        return self.first_us + steps * self.cadence_us

    def scaled(self) -> npt.NDArray[np.int64]:
        """The values as integers of ``10**-decimals``; refuses values with more decimals, as
        dividing them again would not give back the same floats."""
        scale = 10.0**self.decimals
        whole = np.rint(self.values * scale)
        exact = np.array_equal(whole / scale, self.values)
        if not exact or (whole.size and np.abs(whole).max() >= 2**53):
            raise ValueError(
                f"{self.measurement_type} values must be finite with at most "
                f"{self.decimals} decimals"
            )
        return whole.astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Series:
    component_id: int
    block: SeriesBlock
    row: int
    scaled: npt.NDArray[np.int64]


@dataclass(slots=True)
class SeriesWriter:
    """Inserts series known to be new (a fresh seed) and sums up their rollups, which
    ``new_series_writer`` adds once at the end instead of once per block (or in a few parts
    when the series are long enough that their distinct buckets would crowd memory)."""

    session: Session
    written: int = 0
    _types: dict[int, tuple[str, float]] = field(default_factory=dict)
    _pending: list[pl.DataFrame] = field(default_factory=list)
    _pending_rows: int = 0

    def write(self, blocks: list[SeriesBlock]) -> int:
        """Insert ``blocks`` (no lookup of existing keys) series by series in the order of
        the unique index, so the index grows at its end; return the rows written. Every
        value is checked before any is written."""
        scaled = [block.scaled() for block in blocks]
        self._learn_types(blocks)
        series = sorted(
            (
                _Series(int(component_id), block, row, numbers[row])
                for block, numbers in zip(blocks, scaled, strict=True)
                for row, component_id in enumerate(block.component_ids)
            ),
            key=lambda one: (one.component_id, one.block.measurement_type, one.block.first_us),
        )
        driver = driver_connection(self.session)
        if self.session.get_bind().dialect.name == "postgresql":
            _copy_series_postgresql(driver, series)
        else:
            _insert_series_sqlite(driver, series)
        for block in blocks:
            self._pending.append(_series_contributions(block, self._types))
            self._pending_rows += self._pending[-1].height
        if self._pending_rows > _PENDING_ROLLUP_ROWS:
            self._fold()
            if self._pending_rows > _PENDING_ROLLUP_ROWS // 2:
                self._flush()
        rows = sum(block.size for block in blocks)
        self.written += rows
        return rows

    def _learn_types(self, blocks: list[SeriesBlock]) -> None:
        ids = {int(i) for block in blocks for i in block.component_ids} - self._types.keys()
        if ids:
            frame = pl.DataFrame({"component_id": sorted(ids)}, schema={"component_id": pl.Int64})
            for component_id, kind, voltage in component_types(self.session, frame).iter_rows():
                self._types[component_id] = (kind, voltage)

    def _fold(self) -> None:
        folded = rollups.fold(pl.concat(self._pending))
        self._pending = [folded]
        self._pending_rows = folded.height

    def _flush(self) -> None:
        if self._pending:
            rollups.add(self.session, self._pending[0])
        self._pending = []
        self._pending_rows = 0

    def finish(self) -> None:
        if self._pending:
            self._fold()
        self._flush()


@contextmanager
def new_series_writer(session: Session) -> Iterator[SeriesWriter]:
    """A ``SeriesWriter`` whose rollups are added when the block ends without an error (after
    an error the caller's transaction is rolled back, rows and all)."""
    rollups.lock(session)
    writer = SeriesWriter(session)
    yield writer
    writer.finish()


def _insert_series_sqlite(driver: Any, series: list[_Series]) -> None:
    cursor = driver.cursor()
    try:
        for one in series:
            numbers = pl.Series(one.scaled).cast(pl.String).str.join(",").item()
            cursor.execute(
                _SERIES_INSERT_SQLITE,
                (
                    one.component_id,
                    one.block.measurement_type,
                    one.block.first_us,
                    one.block.cadence_us,
                    10.0**one.block.decimals,
                    f"[{numbers}]",
                ),
            )
    finally:
        cursor.close()


def _copy_series_postgresql(driver: Any, series: list[_Series]) -> None:
    frame = pl.concat(
        pl.DataFrame(
            {
                "component_id": np.full(one.scaled.size, one.component_id, dtype=np.int64),
                "measurement_type": pl.repeat(
                    one.block.measurement_type, one.scaled.size, eager=True
                ),
                "timestamp_us": one.block.timestamps(),
                "value": one.block.values[one.row],
            }
        )
        for one in series
    )
    with driver.cursor() as cursor:
        copy_csv(cursor, "measurements", frame)


def _series_contributions(block: SeriesBlock, types: dict[int, tuple[str, float]]) -> pl.DataFrame:
    """The rollup rows of ``block``, reduced with numpy: per component type and voltage level,
    the count, sum, minimum and maximum of each time step over the components, then of each
    bucket."""
    times = block.timestamps()
    if times.size == 0:
        return rollups.empty()
    buckets = rollups.floor_bucket(times)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    widths = np.diff(np.r_[starts, times.size])
    keys = [types[int(i)] for i in block.component_ids]
    parts = []
    for kind, voltage in sorted(set(keys)):
        chosen = np.array([key == (kind, voltage) for key in keys])
        values = block.values[chosen]
        parts.append(
            pl.DataFrame(
                {
                    "component_type": pl.repeat(kind, starts.size, eager=True),
                    "measurement_type": pl.repeat(block.measurement_type, starts.size, eager=True),
                    "bucket_us": buckets[starts],
                    "voltage_kv": pl.repeat(voltage, starts.size, eager=True),
                    "sample_count": widths * values.shape[0],
                    "value_sum": np.add.reduceat(values.sum(axis=0), starts),
                    "value_min": np.minimum.reduceat(values.min(axis=0), starts),
                    "value_max": np.maximum.reduceat(values.max(axis=0), starts),
                },
                schema=rollups.SCHEMA,
            )
        )
    return pl.concat(parts)
