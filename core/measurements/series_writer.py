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

# Rollup buckets summed in memory before they are written out (long series: most of their
# buckets are new, so memory would grow with the length of the seed).
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
    row: int  # of the block's values
    numbers: str | None  # the row's values as a JSON array of scaled integers (SQLite only)

    @property
    def size(self) -> int:
        return int(self.block.values.shape[1])


@dataclass(slots=True)
class _Sums:
    """The rollup of one series layout (component type, voltage level, measurement type, first
    time, cadence, length) summed over every block written with it, bucket by bucket."""

    buckets: npt.NDArray[np.int64]
    starts: npt.NDArray[np.intp]  # where each bucket begins among the layout's time steps
    sample_count: npt.NDArray[np.int64]
    value_sum: npt.NDArray[np.float64]
    value_min: npt.NDArray[np.float64]
    value_max: npt.NDArray[np.float64]

    @classmethod
    def of(cls, block: SeriesBlock) -> _Sums:
        times = block.timestamps()
        buckets = rollups.floor_bucket(times)
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        size = starts.size
        return cls(
            buckets=buckets[starts],
            starts=starts,
            sample_count=np.zeros(size, dtype=np.int64),
            value_sum=np.zeros(size),
            value_min=np.full(size, np.inf),
            value_max=np.full(size, -np.inf),
        )

    def add(self, values: npt.NDArray[np.float64]) -> None:
        """Add the rows of ``values`` (one per component, one column per time step)."""
        widths = np.diff(np.r_[self.starts, values.shape[1]])
        self.sample_count += widths * values.shape[0]
        self.value_sum += np.add.reduceat(values.sum(axis=0), self.starts)
        np.minimum(
            self.value_min, np.minimum.reduceat(values.min(axis=0), self.starts), out=self.value_min
        )
        np.maximum(
            self.value_max, np.maximum.reduceat(values.max(axis=0), self.starts), out=self.value_max
        )


# A layout: component type, voltage level, measurement type, first time, cadence, time steps.
_Layout = tuple[str, float, str, int, int, int]


@dataclass(slots=True)
class SeriesWriter:
    """Inserts series known to be new (a fresh seed) and sums up their rollups in numpy, one
    set of sums per series layout, which ``new_series_writer`` adds once at the end instead of
    once per block (or in a few parts when the series are long enough that their distinct
    buckets would crowd memory)."""

    session: Session
    written: int = 0
    _types: dict[int, tuple[str, float]] = field(default_factory=dict)
    _sums: dict[_Layout, _Sums] = field(default_factory=dict)
    _pending_rows: int = 0

    def write(self, blocks: list[SeriesBlock]) -> int:
        """Insert ``blocks`` (no lookup of existing keys) series by series in the order of
        the unique index, so the index grows at its end; return the rows written. Every
        value is checked before any is written."""
        scaled = [block.scaled() for block in blocks]
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        texts = [None if postgresql else _json_rows(numbers) for numbers in scaled]
        self._learn_types(blocks)
        series = sorted(
            (
                _Series(int(component_id), block, row, None if rows is None else rows[row])
                for block, rows in zip(blocks, texts, strict=True)
                for row, component_id in enumerate(block.component_ids)
            ),
            key=lambda one: (one.component_id, one.block.measurement_type, one.block.first_us),
        )
        driver = driver_connection(self.session)
        if postgresql:
            _copy_series_postgresql(driver, series)
        else:
            _insert_series_sqlite(driver, series)
        for block in blocks:
            self._sum(block)
        if self._pending_rows > _PENDING_ROLLUP_ROWS:
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

    def _sum(self, block: SeriesBlock) -> None:
        """Add ``block``'s values to the sums of its layout, split by the components' type
        and voltage level."""
        steps = block.values.shape[1]
        if steps == 0 or block.values.shape[0] == 0:
            return
        keys = [self._types[int(i)] for i in block.component_ids]
        for kind, voltage in sorted(set(keys)):
            layout = (
                kind,
                voltage,
                block.measurement_type,
                block.first_us,
                block.cadence_us,
                steps,
            )
            sums = self._sums.get(layout)
            if sums is None:
                sums = self._sums[layout] = _Sums.of(block)
                self._pending_rows += sums.buckets.size
            chosen = np.fromiter((key == (kind, voltage) for key in keys), bool, len(keys))
            sums.add(block.values[chosen])

    def _flush(self) -> None:
        """Add the sums to the stored rollups (several layouts may share a bucket: the upsert
        adds each in turn)."""
        if self._sums:
            rollups.add(
                self.session,
                pl.concat(
                    pl.DataFrame(
                        {
                            "bucket_us": sums.buckets,
                            "sample_count": sums.sample_count,
                            "value_sum": sums.value_sum,
                            "value_min": sums.value_min,
                            "value_max": sums.value_max,
                        }
                    ).select(
                        component_type=pl.lit(kind),
                        measurement_type=pl.lit(measurement_type),
                        bucket_us="bucket_us",
                        voltage_kv=pl.lit(voltage, dtype=pl.Float64),
                        sample_count="sample_count",
                        value_sum="value_sum",
                        value_min="value_min",
                        value_max="value_max",
                    )
                    for (kind, voltage, measurement_type, *_), sums in self._sums.items()
                ),
            )
        self._sums = {}
        self._pending_rows = 0

    def finish(self) -> None:
        self._flush()


@contextmanager
def new_series_writer(session: Session) -> Iterator[SeriesWriter]:
    """A ``SeriesWriter`` whose rollups are added when the block ends without an error (after
    an error the caller's transaction is rolled back, rows and all)."""
    rollups.lock(session)
    writer = SeriesWriter(session)
    yield writer
    writer.finish()


def _json_rows(scaled: npt.NDArray[np.int64]) -> list[str]:
    """Each row of ``scaled`` as a JSON array, made in one Polars call for the whole block
    (one per series cost a hand-off to Polars' threads for each)."""
    joined = pl.Series(scaled).cast(pl.List(pl.String)).list.join(",")
    return [f"[{numbers}]" for numbers in joined.to_list()]


def _insert_series_sqlite(driver: Any, series: list[_Series]) -> None:
    cursor = driver.cursor()
    try:
        for one in series:
            cursor.execute(
                _SERIES_INSERT_SQLITE,
                (
                    one.component_id,
                    one.block.measurement_type,
                    one.block.first_us,
                    one.block.cadence_us,
                    10.0**one.block.decimals,
                    one.numbers,
                ),
            )
    finally:
        cursor.close()


def _copy_series_postgresql(driver: Any, series: list[_Series]) -> None:
    frame = pl.concat(
        pl.DataFrame(
            {
                "component_id": np.full(one.size, one.component_id, dtype=np.int64),
                "measurement_type": pl.repeat(one.block.measurement_type, one.size, eager=True),
                "timestamp_us": one.block.timestamps(),
                "value": one.block.values[one.row],
            }
        )
        for one in series
    )
    with driver.cursor() as cursor:
        copy_csv(cursor, "measurements", frame)
