"""``seed_grid``: fill an empty database with a synthetic grid (``grid``) and its measurements
(``series``), for demos and benchmarks. See docs/architecture.md#the-demo-grid."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import logs
from core.domain import Actor, MeasurementType, require_manager
from core.errors import FieldProblem, InvalidInput, NonEmptyDatabase
from core.measurements.series_writer import new_series_writer
from core.models import Component
from core.seed import excursions
from core.seed.grid import (
    MAX_COMPONENTS,
    PRIMARY_TRANSFORMER_MVA,
    SECONDARY_TRANSFORMER_MVA,
    create_components,
)
from core.seed.series import (
    CHUNK_ROWS,
    TYPES_BY_SHARE,
    day_factors,
    measurement_blocks,
)
from core.timestamps import MINUTE_US, from_micros, to_micros, to_utc

__all__ = [
    "CHUNK_ROWS",
    "PRIMARY_TRANSFORMER_MVA",
    "SECONDARY_TRANSFORMER_MVA",
    "SeedSummary",
    "seed_grid",
    "start_of_today",
]


@dataclass(frozen=True, slots=True)
class SeedSummary:
    components: int
    measurements: int
    substations: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None


def start_of_today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def seed_grid(
    *,
    session: Session,
    actor: Actor,
    components: int,
    per_component: int,
    random_seed: int = 42,
    end: datetime | None = None,
    cadence_minutes: int = 15,
    progress: Callable[[float], None] | None = None,
    plant_excursions: bool = True,
) -> SeedSummary:
    """Fill an empty database with ``components`` components and ``per_component``
    measurements each (split over voltage, current and power), the last at ``end``
    (default: the start of today, UTC), one every ``cadence_minutes``.

    ``plant_excursions`` (series of ``excursions.MIN_STEPS`` samples or more) plants a
    voltage sag on a few components, an hour's overload on a transformer and a component
    silent for the last two hours (its series ends early), so the demo shows alarms; every
    series that reaches past a limit is evaluated either way. Refuses with
    ``NonEmptyDatabase`` if the database already has components. Writes in the session's
    transaction; ``progress`` is called with the fraction done after each slice of time.
    """
    started = time.perf_counter()
    require_manager(actor, "seed the database")
    _check_sizes(components, per_component, cadence_minutes)
    existing = session.scalar(select(func.count()).select_from(Component)) or 0
    if existing:
        raise NonEmptyDatabase(
            f"the database already has {existing} component{'' if existing == 1 else 's'}; "
            "seed only fills an empty database (use a new database URL, or delete the "
            "components first)"
        )
    end_us = to_micros(to_utc(end) if end is not None else start_of_today())
    rng = np.random.default_rng(random_seed)
    grid = create_components(session, actor.username, components, rng)

    counts = _counts_per_type(per_component)
    steps = max(counts.values())
    cadence_us = cadence_minutes * MINUTE_US
    first_us = end_us - max(steps - 1, 0) * cadence_us
    days = day_factors(rng, first_us, end_us)
    total = per_component * components
    planted = excursions.plan(
        session, random_seed, end_us, cadence_us, steps, plant=plant_excursions
    )
    with new_series_writer(session) as writer:
        for blocks in measurement_blocks(grid, rng, days, counts, first_us, cadence_us, steps):
            writer.write(planted.apply(blocks))
            if planted.pending_rows >= excursions.EVALUATE_ROWS:
                planted.evaluate(session)
            if progress is not None:
                progress(writer.written / total)
    written = writer.written
    excursions.evaluate_seeded(session, planted, end_us)
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics for the planner: autovacuum would analyze the new rows only a
        # minute or so later, and until then reports use a plan made for an empty table.
        session.execute(text("ANALYZE components, measurements, measurement_rollups"))
    logs.on_commit(
        session,
        "seed",
        user=actor.username,
        started=started,
        components=components,
        measurements=written,
        random_seed=random_seed,
    )
    return SeedSummary(
        components=components,
        measurements=written,
        substations=grid.substations,
        first_timestamp=from_micros(first_us - planted.silent_lead_us) if written else None,
        last_timestamp=from_micros(end_us) if written else None,
    )


def _check_sizes(components: int, per_component: int, cadence_minutes: int) -> None:
    problems = []
    if not 1 <= components <= MAX_COMPONENTS:
        problems.append(FieldProblem("components", f"must be 1 to {MAX_COMPONENTS}"))
    if per_component < 0:
        problems.append(FieldProblem("per_component", "must be 0 or more"))
    if cadence_minutes < 1:
        problems.append(FieldProblem("cadence_minutes", "must be at least 1"))
    if problems:
        raise InvalidInput(problems)


def _counts_per_type(per_component: int) -> dict[MeasurementType, int]:
    """10,000 -> voltage 3334, current 3333, power 3333."""
    share, remainder = divmod(per_component, len(TYPES_BY_SHARE))
    return {kind: share + (i < remainder) for i, kind in enumerate(TYPES_BY_SHARE)}
