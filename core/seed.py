"""A realistic synthetic grid and its measurements, for demos and benchmarks.

The grid has primary substations (110/20 kV) and the secondary substations they feed
(20/0.4 kV), about eight components each, connected as a radial network: 110 kV lines join
the primaries into a tree, each primary feeds its secondaries through two 20 kV feeders (a
chain of secondaries each), and 0.4 kV lines stay inside a secondary substation (they leave
to customers, so they have no second substation). The first line of every substation is its
link to the substation that feeds it, so every substation with a line is connected.

Every component gets voltage, current and power series at a fixed cadence that end at
``end``: a daily load profile (night valley, morning and evening peaks, quieter weekends),
some noise, voltages near the nominal level, currents that follow ``I = |P| / (sqrt(3) * U)``,
and power scaled to the transformer rating or a plausible line loading. Some lines carry
rooftop solar feed-in and reverse their flow around noon.

Everything comes from one seeded generator, so the same seed and ``end`` give the same data.
Measurements are generated with numpy a few components at a time and written through
``core.measurement_store`` as they are made, so memory stays flat however many rows are asked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import logs
from core.domain import Actor, ComponentType, MeasurementType, SwitchStatus, require_manager
from core.errors import FieldProblem, InvalidInput, NotEmpty
from core.measurement_store import SeriesBlock, new_series_writer
from core.models import Component
from core.timestamps import DAY_US, HOUR_US, MINUTE_US, from_micros, to_micros, to_utc

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

COMPONENTS_PER_SUBSTATION = 8
SUBSTATIONS_PER_PRIMARY = 5
FEEDERS_PER_PRIMARY = 2
TYPE_SHARES = {ComponentType.TRANSFORMER: 0.30, ComponentType.LINE: 0.45}
PRIMARY_TRANSFORMER_MVA = (25.0, 31.5, 40.0, 63.0)
SECONDARY_TRANSFORMER_MVA = (0.25, 0.4, 0.63, 1.0)
LINE_LENGTH_KM = {110.0: (5.0, 60.0), 20.0: (0.5, 15.0), 0.4: (0.1, 1.0)}
# Peak active power a line or switch of each level carries, MW.
FEEDER_PEAK_MW = {110.0: (20.0, 80.0), 20.0: (1.5, 8.0), 0.4: (0.04, 0.2)}
CLOSED_SWITCH_SHARE = 0.9
SOLAR_LINE_SHARE = 0.15
POWER_FACTOR = 0.95
MAX_COMPONENTS = 100_000
# Rows generated and written per block: big enough that per-block work is noise,
# small enough that memory does not grow with the size of the seed.
CHUNK_ROWS = 300_000

PLACES = (
    "Nordhafen", "Lindenau", "Birkenhain", "Eichwalde", "Muehlbach", "Altstadt", "Westend",
    "Seefeld", "Hochfeld", "Kornmarkt", "Ostpark", "Ziegelei", "Rosental", "Wiesengrund",
    "Steinbach", "Am Hafen", "Lerchenberg", "Talheim", "Bruckhausen", "Sonnenhang",
    "Kirchdorf", "Waldrand", "Neuwerk", "Ufergarten", "Schlossberg", "Holzmarkt",
    "Brunnenfeld", "Weidenau", "Heidekamp", "Rotenbach", "Auental", "Fuchsberg",
)  # fmt: skip
SUBSTATION_CODE = "SS-{place}-{number:02d}"
NAME_PREFIX = {ComponentType.TRANSFORMER: "T", ComponentType.LINE: "L", ComponentType.SWITCH: "S"}

# Measurement types in the order of the unique index (component_id, measurement_type, ...):
# writing rows in index order appends to each key range instead of jumping between them.
TYPES_IN_KEY_ORDER = tuple(sorted(MeasurementType, key=lambda kind: kind.value))
# Decimals each type is rounded to (what a meter would report).
DECIMALS = {MeasurementType.CURRENT: 2, MeasurementType.POWER: 4, MeasurementType.VOLTAGE: 4}
# How per_component splits over the types: the remainder goes to the first ones.
TYPES_BY_SHARE = (MeasurementType.VOLTAGE, MeasurementType.CURRENT, MeasurementType.POWER)

_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True, slots=True)
class SeedSummary:
    components: int
    measurements: int
    substations: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None


@dataclass(frozen=True, slots=True)
class _Grid:
    """The seeded components and the electrical parameters their series are drawn from."""

    ids: Ints
    nominal_kv: Floats
    peak_mw: Floats  # 0 for an open switch
    solar_ratio: Floats  # midday feed-in as a share of peak load; 0 for most components
    voltage_setpoint: Floats  # per unit at no load
    voltage_drop: Floats  # per unit drop at full load
    substations: int


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
) -> SeedSummary:
    """Fill an empty database with ``components`` components and ``per_component``
    measurements each (split over voltage, current and power), the last at ``end``
    (default: the start of today, UTC), one every ``cadence_minutes``.

    Refuses with ``NotEmpty`` if the database already has components. Writes in the session's
    transaction; ``progress`` is called with the fraction done after each slice of time.
    """
    started = time.perf_counter()
    require_manager(actor, "seed the database")
    _check_sizes(components, per_component, cadence_minutes)
    existing = session.scalar(select(func.count()).select_from(Component)) or 0
    if existing:
        raise NotEmpty(
            f"the database already has {existing} component{'' if existing == 1 else 's'}; "
            "seed only fills an empty database (use a new database URL, or delete the "
            "components first)"
        )
    end_us = to_micros(to_utc(end) if end is not None else start_of_today())
    rng = np.random.default_rng(random_seed)
    grid = _create_components(session, actor, components, rng)

    counts = _counts_per_type(per_component)
    steps = max(counts.values())
    cadence_us = cadence_minutes * MINUTE_US
    first_us = end_us - max(steps - 1, 0) * cadence_us
    days = _day_factors(rng, first_us, end_us)
    total = per_component * components
    with new_series_writer(session) as writer:
        for blocks in _measurement_blocks(grid, rng, days, counts, first_us, cadence_us, steps):
            writer.write(blocks)
            if progress is not None:
                progress(writer.written / total)
    written = writer.written
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
        first_timestamp=from_micros(first_us) if written else None,
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


def _substation_names(count: int, rng: np.random.Generator) -> tuple[list[str], list[bool]]:
    """Names and whether each is a primary (110/20 kV) substation; the rest are 20/0.4 kV
    substations named after the primary that feeds them."""
    primaries = max(1, math.ceil(count / SUBSTATIONS_PER_PRIMARY))
    places = [str(place) for place in rng.permutation(np.array(PLACES))]
    primary_names = [
        places[i % len(places)] + ("" if i < len(places) else f" {i // len(places) + 1}")
        for i in range(primaries)
    ]
    names = list(primary_names)
    numbers = [0] * primaries
    for i in range(count - primaries):
        feeder = i % primaries
        numbers[feeder] += 1
        place = primary_names[feeder].replace(" ", "")
        names.append(SUBSTATION_CODE.format(place=place, number=numbers[feeder]))
    return names, [i < primaries for i in range(count)]


def _radial_parents(count: int) -> list[int | None]:
    """The substation that feeds each one (by index, ``None`` for the first primary), for the
    names of ``_substation_names``: primaries form a binary tree over 110 kV; secondary
    number n of a primary hangs on the primary itself for the first ``FEEDERS_PER_PRIMARY``
    and on secondary n - ``FEEDERS_PER_PRIMARY`` of the same primary after that."""
    primaries = max(1, math.ceil(count / SUBSTATIONS_PER_PRIMARY))
    parents: list[int | None] = [None] + [(k - 1) // 2 for k in range(1, min(primaries, count))]
    for i in range(count - primaries):
        close = i < FEEDERS_PER_PRIMARY * primaries
        parents.append(i % primaries if close else i - FEEDERS_PER_PRIMARY * primaries + primaries)
    return parents


def _line_ends(parents: list[int | None]) -> list[list[int]]:
    """Where each substation's further lines lead, in turn: first the substations it feeds,
    then the one that feeds it (its first line already leads there)."""
    children: list[list[int]] = [[] for _ in parents]
    for child, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(child)
    return [
        children[where] + ([] if parent is None else [parent])
        for where, parent in enumerate(parents)
    ]


def _shuffled_types(count: int, rng: np.random.Generator) -> list[ComponentType]:
    transformers = round(count * TYPE_SHARES[ComponentType.TRANSFORMER])
    lines = round(count * TYPE_SHARES[ComponentType.LINE])
    kinds = (
        [ComponentType.TRANSFORMER] * transformers
        + [ComponentType.LINE] * lines
        + [ComponentType.SWITCH] * (count - transformers - lines)
    )
    return [kinds[i] for i in rng.permutation(count)]


def _give_every_substation_a_line(kinds: list[ComponentType], substations: int) -> None:
    """Swap types between components so that every substation has a line (its link to the
    one that feeds it), taking them from the substations with the most; the counts per type
    stay as they are. Component ``i`` is in substation ``i % substations``."""
    lines_of: list[list[int]] = [[] for _ in range(substations)]
    for i, kind in enumerate(kinds):
        if kind is ComponentType.LINE:
            lines_of[i % substations].append(i)
    for where in range(1, min(substations, len(kinds))):
        if lines_of[where]:
            continue
        donor = max(range(substations), key=lambda other: len(lines_of[other]))
        if len(lines_of[donor]) < 2:
            return  # fewer lines than substations: some stay unconnected
        taken = lines_of[donor].pop()
        kinds[taken], kinds[where] = kinds[where], kinds[taken]
        lines_of[where].append(where)


def _create_components(
    session: Session, actor: Actor, count: int, rng: np.random.Generator
) -> _Grid:
    substation_count = max(1, round(count / COMPONENTS_PER_SUBSTATION))
    substations, is_primary = _substation_names(substation_count, rng)
    parents = _radial_parents(substation_count)
    ends = _line_ends(parents)
    lines_at = [0] * substation_count
    kinds = _shuffled_types(count, rng)
    _give_every_substation_a_line(kinds, substation_count)
    rows: list[Component] = []
    nominal = np.empty(count)
    peak = np.empty(count)
    solar = np.zeros(count)
    numbers: dict[tuple[int, ComponentType], int] = {}
    for i, kind in enumerate(kinds):
        where = i % substation_count
        primary = is_primary[where]
        number = numbers[where, kind] = numbers.get((where, kind), 0) + 1
        row = Component(
            name=f"{NAME_PREFIX[kind]}{number}",
            substation=substations[where],
            component_type=kind.value,
            created_by=actor.username,
            updated_by=actor.username,
        )
        if kind is ComponentType.TRANSFORMER:
            ratings = PRIMARY_TRANSFORMER_MVA if primary else SECONDARY_TRANSFORMER_MVA
            row.capacity_mva = float(rng.choice(ratings))
            row.voltage_kv = nominal[i] = 110.0 if primary else 20.0
            peak[i] = row.capacity_mva * rng.uniform(0.45, 0.8) * POWER_FACTOR
        else:
            levels = (110.0, 20.0) if primary else (20.0, 0.4)
            uplink = kind is ComponentType.LINE and not lines_at[where]
            if uplink and parents[where] is not None:  # the link to its feeding substation
                nominal[i] = 110.0 if primary else 20.0
            else:
                nominal[i] = levels[0] if rng.random() < 0.4 else levels[1]
            peak[i] = rng.uniform(*FEEDER_PEAK_MW[nominal[i]])
            if kind is ComponentType.LINE:
                row.to_substation = _other_end(
                    where, nominal[i], lines_at, parents, ends, substations, is_primary
                )
                lines_at[where] += 1
                row.voltage_kv = nominal[i]
                row.length_km = round(float(rng.uniform(*LINE_LENGTH_KM[nominal[i]])), 2)
                if rng.random() < SOLAR_LINE_SHARE:
                    solar[i] = rng.uniform(1.3, 2.0)
            else:
                closed = rng.random() < CLOSED_SWITCH_SHARE
                row.status = (SwitchStatus.CLOSED if closed else SwitchStatus.OPEN).value
                peak[i] = peak[i] if closed else 0.0
        rows.append(row)
    session.add_all(rows)
    session.flush()
    return _Grid(
        ids=np.array([row.id for row in rows], dtype=np.int64),
        nominal_kv=nominal,
        peak_mw=peak,
        solar_ratio=solar,
        voltage_setpoint=rng.uniform(0.99, 1.04, count),
        voltage_drop=rng.uniform(0.01, 0.04, count),
        substations=substation_count,
    )


def _other_end(
    where: int,
    level_kv: float,
    lines_at: list[int],
    parents: list[int | None],
    ends: list[list[int]],
    substations: list[str],
    is_primary: list[bool],
) -> str | None:
    """The substation the next line of ``where`` at ``level_kv`` leads to: its feeding
    substation for the first line, then the others of its level in turn; none at 0.4 kV."""
    parent = parents[where]
    if level_kv < 1.0:
        return None
    if not lines_at[where] and parent is not None:
        return substations[parent]
    # 110 kV lines join primaries; 20 kV lines join a primary or secondary to secondaries.
    wanted = [
        other
        for other in ends[where]
        if (is_primary[other] and is_primary[where]) == (level_kv > 20.0)
    ]
    if not wanted:
        return None
    return substations[wanted[lines_at[where] % len(wanted)]]


def _day_factors(rng: np.random.Generator, first_us: int, end_us: int) -> Floats:
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


def _measurement_blocks(
    grid: _Grid,
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
    grid: _Grid,
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
