"""The seed's planted excursions, so that the demo shows alarms: a voltage sag on a few
components, a transformer overloaded for an hour, a component gone silent; then the seeded
series that reach past a limit evaluated. See docs/architecture.md#the-demo-grid."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alarms.engine import check_communication, evaluate_measurements
from core.alarms.limits import conditions
from core.domain import ComponentType, MeasurementType
from core.measurements.series_writer import SeriesBlock
from core.models import Component
from core.timestamps import from_micros

# Kept samples evaluated at once, at most (then the next ones carry what is still active).
EVALUATE_ROWS = 1_000_000

# Per unit voltage during a sag (below the default 10 % alarm band) and loading during the
# overload (above 100 %), each for ``EXCURSION_STEPS`` samples (an hour at 15 minutes).
SAG_PER_UNIT = 0.87
OVERLOAD = 1.12
EXCURSION_STEPS = 4
SAGS = 3
# The silent component's series ends this many samples before the others' (two hours).
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
    silent_lead_us: int = 0  # how much earlier the silent component's series ends
    # The effective limits (``conditions``), and the samples of each series from the block
    # where it first reaches past one on: the only series whose evaluation can raise anything.
    limits: pl.DataFrame = field(default_factory=pl.DataFrame)
    kept: set[tuple[int, str]] = field(default_factory=set)
    pending: list[pl.DataFrame] = field(default_factory=list)
    pending_rows: int = 0

    def apply(self, blocks: list[SeriesBlock]) -> list[SeriesBlock]:
        """``blocks`` with the excursions written in, the samples to evaluate kept."""
        by_type = {block.measurement_type: block for block in blocks}
        if self.sags or self.overloaded:
            self._excursions(by_type)
        out: list[SeriesBlock] = []
        for block in by_type.values():
            out += self._silence(block)
        for block in out:
            self._keep(block)
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
        cols = (times - current.first_us) // current.cadence_us
        inside = (cols >= 0) & (cols < current.values.shape[1])
        ratio = np.abs(new) / np.maximum(np.abs(old), 1e-9) if kind == _POWER else old / new
        cols, ratio = cols[inside], ratio[inside]
        current.values[row, cols] = np.round(current.values[row, cols] * ratio, current.decimals)

    def _silence(self, block: SeriesBlock) -> list[SeriesBlock]:
        """The block with the silent component's row moved ``SILENT_STEPS`` samples earlier:
        its series keeps its length (every component has the rows asked for) and ends two
        hours before the others."""
        if self.silent is None:
            return [block]
        where = np.flatnonzero(block.component_ids == self.silent)
        if not where.size:
            return [block]
        row = int(where[0])
        others = np.delete(np.arange(block.component_ids.size), row)
        moved = replace(
            block,
            component_ids=block.component_ids[[row]],
            first_us=block.first_us - self.silent_lead_us,
            values=block.values[[row]],
        )
        rest = replace(
            block, component_ids=block.component_ids[others], values=block.values[others]
        )
        return [part for part in (rest, moved) if part.component_ids.size]

    def _keep(self, block: SeriesBlock) -> None:
        """Keep the rows of ``block`` whose series reaches past a limit here or did before."""
        if not block.values.size or self.limits.is_empty():
            return
        ranges = pl.DataFrame(
            {
                "component_id": block.component_ids.astype(np.int64),
                "measurement_type": [block.measurement_type] * block.component_ids.size,
                "low": block.values.min(axis=1),
                "high": block.values.max(axis=1),
            }
        )
        found = ranges.join(self.limits, on=["component_id", "measurement_type"]).filter(_beyond())
        self.kept.update(found.select("component_id", "measurement_type").iter_rows())
        rows = [
            row
            for row, component_id in enumerate(block.component_ids.tolist())
            if (component_id, block.measurement_type) in self.kept
        ]
        if not rows:
            return
        steps = block.values.shape[1]
        self.pending.append(
            pl.DataFrame(
                {
                    "component_id": np.repeat(block.component_ids[rows], steps),
                    "measurement_type": block.measurement_type,
                    "timestamp_us": np.tile(block.timestamps(), len(rows)),
                    "value": block.values[rows].reshape(-1),
                }
            )
        )
        self.pending_rows += len(rows) * steps

    def evaluate(self, session: Session) -> None:
        """Evaluate the kept samples (stored by now) as one batch, and let them go."""
        if self.pending:
            evaluate_measurements(session, pl.concat(self.pending), limits=self.limits)
        self.pending, self.pending_rows = [], 0


def _beyond() -> pl.Expr:
    """A series' range (``low``, ``high``) reaches past its threshold."""
    touching = pl.when(pl.col("low") <= 0).then(0.0).otherwise(pl.col("low"))
    smallest = pl.when(pl.col("high") >= 0).then(touching).otherwise(-pl.col("high"))
    largest = pl.max_horizontal(pl.col("low").abs(), pl.col("high").abs())
    absolute = pl.col("absolute")
    return (
        pl.when(pl.col("direction") > 0)
        .then(pl.when(absolute).then(largest).otherwise(pl.col("high")) > pl.col("limit"))
        .otherwise(pl.when(absolute).then(smallest).otherwise(pl.col("low")) < pl.col("limit"))
    )


def plan(
    session: Session, random_seed: int, end_us: int, cadence_us: int, steps: int, *, plant: bool
) -> Plan:
    """The excursions of this seed (when ``plant``), the same for the same ``random_seed``:
    none in series shorter than ``MIN_STEPS``; and the limits the seeded series meet."""
    chosen = Plan(limits=conditions(session))
    if not plant or steps < MIN_STEPS:
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
    chosen.silent_lead_us = SILENT_STEPS * cadence_us
    return chosen


def evaluate_seeded(session: Session, chosen: Plan, end_us: int) -> None:
    """Alarms of the seeded series, as evaluating their history derives them, and the silent
    component's communication lost as the minute check at ``end`` raises it."""
    chosen.evaluate(session)
    if chosen.silent is not None:
        check_communication(session, now=from_micros(end_us))
