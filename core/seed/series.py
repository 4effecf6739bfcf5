"""The seed's measurements: daily load and solar profiles, and every component's series in
blocks of whole components. See docs/architecture.md#the-demo-grid."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from core.domain import MeasurementType
from core.measurements.series_writer import SeriesBlock
from core.seed.grid import Floats, Grid, Ints
from core.timestamps import DAY_US, HOUR_US

# Rows generated and written per block: big enough that per-block work is noise,
# small enough that memory does not grow with the size of the seed.
CHUNK_ROWS = 300_000
# Measurement types in the order of the unique index (component_id, measurement_type, ...):
# writing rows in index order appends to each key range instead of jumping between them.
TYPES_IN_KEY_ORDER = tuple(sorted(MeasurementType, key=lambda kind: kind.value))
# Decimals each type is rounded to (what a meter would report).
DECIMALS = {MeasurementType.CURRENT: 2, MeasurementType.POWER: 4, MeasurementType.VOLTAGE: 4}
# How per_component splits over the types: the remainder goes to the first ones.
TYPES_BY_SHARE = (MeasurementType.VOLTAGE, MeasurementType.CURRENT, MeasurementType.POWER)

_SQRT3 = math.sqrt(3.0)


def day_factors(rng: np.random.Generator, first_us: int, end_us: int) -> Floats:
    """A level for each calendar day (weather, events), shared by every component."""
    days = end_us // DAY_US - first_us // DAY_US + 1
    return rng.uniform(0.9, 1.1, days)


def _bump(hours: Floats, center: float, width: float) -> Floats:
    distance = (hours - center + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (distance / width) ** 2)


def load_profile(timestamps_us: Ints) -> Floats:
    """Load as a share of the daily peak: night valley, morning and evening peaks, and
    quieter weekends (1970-01-01 was a Thursday)."""
    hours = (timestamps_us % DAY_US) / HOUR_US
    shape = (
        0.38
        + 0.30 * _bump(hours, 8.0, 1.6)
        + 0.15 * _bump(hours, 13.0, 3.0)
        + 0.55 * _bump(hours, 19.0, 2.2)
    )
    weekday = (timestamps_us // DAY_US + 3) % 7
    return np.asarray(shape / 0.96 * np.where(weekday >= 5, 0.85, 1.0), dtype=np.float64)


def solar_profile(timestamps_us: Ints) -> Floats:
    """Rooftop solar output as a share of its peak: zero at night, highest at 12:30."""
    hours = (timestamps_us % DAY_US) / HOUR_US
    return np.asarray(np.clip(np.sin(np.pi * (hours - 6.0) / 13.0), 0.0, None) ** 1.5)


def measurement_blocks(
    grid: Grid,
    rng: np.random.Generator,
    days: Floats,
    counts: dict[MeasurementType, int],
    first_us: int,
    cadence_us: int,
    steps: int,
) -> Iterator[list[SeriesBlock]]:
    """The series of every component in blocks of about ``CHUNK_ROWS`` rows: a few whole
    components at a time, so rows arrive in the order of the unique index (component, type,
    time) and the index grows at its end. Only a series longer than a block is cut in time."""
    window = max(1, CHUNK_ROWS // len(TYPES_IN_KEY_ORDER))
    for start in range(0, steps, window):
        stop = min(steps, start + window)
        per_block = max(1, CHUNK_ROWS // (len(TYPES_IN_KEY_ORDER) * (stop - start)))
        for low in range(0, grid.ids.size, per_block):
            rows = slice(low, low + per_block)
            yield _measurement_block(
                grid, rows, rng, days, counts, first_us, cadence_us, start, stop, steps
            )


def _measurement_block(
    grid: Grid,
    rows: slice,
    rng: np.random.Generator,
    days: Floats,
    counts: dict[MeasurementType, int],
    first_us: int,
    cadence_us: int,
    start: int,
    stop: int,
    steps: int,
) -> list[SeriesBlock]:
    """The series of components ``rows`` over time steps [start, stop)."""
    ids = grid.ids[rows]
    step = np.arange(start, stop, dtype=np.int64)
    times = first_us + step * cadence_us
    day = times // DAY_US - first_us // DAY_US
    load = (load_profile(times) * days[day])[None, :]
    noise = 1.0 + 0.03 * rng.standard_normal((ids.size, step.size))
    noisy_load = np.clip(load * noise, 0.05, 1.25)
    power = grid.peak_mw[rows, None] * (
        noisy_load - grid.solar_ratio[rows, None] * solar_profile(times)[None, :]
    )
    per_unit = (
        grid.voltage_setpoint[rows, None]
        - grid.voltage_drop[rows, None] * load
        + 0.003 * rng.standard_normal((ids.size, step.size))
    )
    voltage = grid.nominal_kv[rows, None] * np.clip(per_unit, 0.93, 1.07)
    current = np.abs(power) * 1000.0 / (_SQRT3 * voltage)
    series = {
        MeasurementType.CURRENT: current,
        MeasurementType.POWER: power,
        MeasurementType.VOLTAGE: voltage,
    }
    blocks = []
    for kind in TYPES_IN_KEY_ORDER:
        # A type with fewer rows than ``steps`` starts that many steps later.
        skip = max(0, steps - counts[kind] - start)
        if skip >= step.size:
            continue
        blocks.append(
            SeriesBlock(
                component_ids=ids,
                measurement_type=kind.value,
                first_us=int(times[skip]),
                cadence_us=cadence_us,
                values=np.round(series[kind][:, skip:], DECIMALS[kind]),
                decimals=DECIMALS[kind],
            )
        )
    return blocks
