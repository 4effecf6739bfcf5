"""The seed's planted excursions, so that the demo shows alarms: a voltage sag on a few
components, a transformer overloaded for an hour, a component gone silent; then the seeded
series that reach past a limit evaluated. See docs/architecture.md#the-demo-grid."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alarms.engine import check_communication, evaluate_history
from core.alarms.limits import conditions
from core.domain import ComponentType, MeasurementType
from core.measurements.series_writer import SeriesBlock
from core.models import Component
from core.timestamps import from_micros

# Per unit voltage during a sag (below the default 10 % alarm band) and loading during the
# overload (above 100 %), each for ``EXCURSION_STEPS`` samples (an hour at 15 minutes).
SAG_PER_UNIT = 0.87
OVERLOAD = 1.12
EXCURSION_STEPS = 4
SAGS = 3
# The silent component stops reporting this many samples before the end (two hours).
SILENT_STEPS = 8
# Planted only where the series are long enough to hold them apart.
MIN_STEPS = 48
_CURRENT, _POWER, _VOLTAGE = (
    MeasurementType.CURRENT.value, MeasurementType.POWER.value, MeasurementType.VOLTAGE.value,
)  # fmt: skip


@dataclass(slots=True)
class Plan:
    """Which components get which excursion, and from which instant (data time)."""

    sags: dict[int, float] = field(default_factory=dict)  # id -> nominal kV
    overloaded: dict[int, float] = field(default_factory=dict)  # id -> capacity MVA
    silent: int | None = None
    sag_us: tuple[int, int] = (0, 0)
    overload_us: tuple[int, int] = (0, 0)
    silent_from_us: int = 0
    ranges: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)

    def apply(self, blocks: list[SeriesBlock]) -> list[SeriesBlock]:
        """``blocks`` with the excursions written in, and each series' range noted."""
        by_type = {block.measurement_type: block for block in blocks}
        if self.sags or self.overloaded:
            self._excursions(by_type)
        out: list[SeriesBlock] = []
        for block in by_type.values():
            out += self._silence(block)
        for block in out:
            self._note(block)
        return out

    def _excursions(self, by_type: dict[str, SeriesBlock]) -> None:
        voltage, power, current = (by_type.get(k) for k in (_VOLTAGE, _POWER, _CURRENT))
        for ids, (low, high), kind in (
            (self.sags, self.sag_us, _VOLTAGE),
            (self.overloaded, self.overload_us, _POWER),
        ):
            changed = voltage if kind == _VOLTAGE else power
            if changed is None:
                continue
            for row, component_id in enumerate(changed.component_ids.tolist()):
                if component_id not in ids:
                    continue
                times = changed.timestamps()
                cols = np.flatnonzero((times >= low) & (times < high))
                if not cols.size:
                    continue
                old = changed.values[row, cols].copy()
                new = np.full(cols.size, ids[component_id] * (SAG_PER_UNIT if kind == _VOLTAGE
                                                              else OVERLOAD))  # fmt: skip
                if kind == _POWER:
                    new = np.where(old < 0, -new, new)
                changed.values[row, cols] = np.round(new, changed.decimals)
                if current is not None:  # I = |P| / (sqrt(3) V): scaled as P, or inversely as V
                    self._scale_current(current, component_id, times[cols], old, new, kind)

    @staticmethod
    def _scale_current(
        current: SeriesBlock,
        component_id: int,
        times: np.ndarray,
        old: np.ndarray,
        new: np.ndarray,
        kind: str,
    ) -> None:
        row = int(np.flatnonzero(current.component_ids == component_id)[0])
        cols = np.flatnonzero(np.isin(current.timestamps(), times))
        ratio = np.abs(new) / np.maximum(np.abs(old), 1e-9) if kind == _POWER else old / new
        ratio = ratio[np.isin(times, current.timestamps())]
        current.values[row, cols] = np.round(current.values[row, cols] * ratio, current.decimals)

    def _silence(self, block: SeriesBlock) -> list[SeriesBlock]:
        """The block without the silent component's samples from ``silent_from_us`` on."""
        if self.silent is None:
            return [block]
        where = np.flatnonzero(block.component_ids == self.silent)
        if not where.size:
            return [block]
        row = int(where[0])
        kept = int(np.count_nonzero(block.timestamps() < self.silent_from_us))
        if kept == block.values.shape[1]:
            return [block]
        others = np.delete(np.arange(block.component_ids.size), row)
        parts = [
            replace(block, component_ids=block.component_ids[others], values=block.values[others])
        ]
        if kept:
            parts.append(
                replace(
                    block,
                    component_ids=block.component_ids[[row]],
                    values=block.values[[row], :kept],
                )
            )
        return [part for part in parts if part.component_ids.size]

    def _note(self, block: SeriesBlock) -> None:
        if not block.values.size:
            return
        lows, highs = block.values.min(axis=1), block.values.max(axis=1)
        for component_id, low, high in zip(
            block.component_ids.tolist(), lows.tolist(), highs.tolist(), strict=True
        ):
            key = (component_id, block.measurement_type)
            before = self.ranges.get(key)
            self.ranges[key] = (
                (low, high) if before is None else (min(before[0], low), max(before[1], high))
            )


def plan(
    session: Session, random_seed: int, first_us: int, end_us: int, cadence_us: int, steps: int
) -> Plan:
    """The excursions of this seed, the same for the same ``random_seed``: none in series
    shorter than ``MIN_STEPS``."""
    chosen = Plan()
    if steps < MIN_STEPS:
        return chosen
    rows = session.execute(
        select(Component.id, Component.component_type, Component.voltage_kv, Component.capacity_mva)
        .order_by(Component.id)
    ).all()  # fmt: skip
    rng = np.random.default_rng([random_seed, 29])
    rated = [r for r in rows if r.component_type != ComponentType.SWITCH.value]
    transformers = [r for r in rated if r.component_type == ComponentType.TRANSFORMER.value]
    picked = rng.permutation(len(rated)).tolist()
    for index in picked[:SAGS]:
        chosen.sags[rated[index].id] = float(rated[index].voltage_kv)
    if transformers:
        overloaded = transformers[int(rng.integers(len(transformers)))]
        chosen.overloaded[overloaded.id] = float(overloaded.capacity_mva)
    quiet = [r.id for r in rows if r.id not in chosen.sags and r.id not in chosen.overloaded]
    if quiet:
        chosen.silent = quiet[int(rng.integers(len(quiet)))]
    sag_at = end_us - 40 * cadence_us
    overload_at = end_us - 24 * cadence_us
    chosen.sag_us = (sag_at, sag_at + EXCURSION_STEPS * cadence_us)
    chosen.overload_us = (overload_at, overload_at + EXCURSION_STEPS * cadence_us)
    chosen.silent_from_us = end_us - (SILENT_STEPS - 1) * cadence_us
    return chosen


def _outside(session: Session, ranges: dict[tuple[int, str], tuple[float, float]]) -> list[int]:
    """The components with a seeded series that reaches past one of its limits: the only
    ones whose evaluation can raise anything."""
    if not ranges:
        return []
    seen = pl.DataFrame(
        [(c, k, low, high) for (c, k), (low, high) in ranges.items()],
        schema={"component_id": pl.Int64, "measurement_type": pl.String, "low": pl.Float64,
                "high": pl.Float64},
        orient="row",
    )  # fmt: skip
    touching = pl.when(pl.col("low") <= 0).then(0.0).otherwise(pl.col("low"))
    smallest = pl.when(pl.col("high") >= 0).then(touching).otherwise(-pl.col("high"))
    largest = pl.max_horizontal(pl.col("low").abs(), pl.col("high").abs())
    beyond = (
        pl.when(pl.col("direction") > 0)
        .then(pl.when(pl.col("absolute")).then(largest).otherwise(pl.col("high")) > pl.col("limit"))
        .otherwise(pl.when(pl.col("absolute")).then(smallest).otherwise(pl.col("low"))
                   < pl.col("limit"))
    )  # fmt: skip
    ids = seen.get_column("component_id").unique().to_list()
    found = seen.join(conditions(session, ids), on=["component_id", "measurement_type"])
    return sorted(found.filter(beyond).get_column("component_id").unique().to_list())


def evaluate_seeded(session: Session, chosen: Plan, first_us: int, end_us: int) -> None:
    """Alarms of the seeded series, as the evaluation of their history derives them, and the
    silent component's communication lost as the minute check at ``end`` raises it."""
    outside = _outside(session, chosen.ranges)
    if outside:
        evaluate_history(session, since=from_micros(first_us), component_ids=outside)
    if chosen.silent is not None:
        check_communication(session, now=from_micros(end_us))
