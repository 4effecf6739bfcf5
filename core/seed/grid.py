"""The seed's grid: substations named and joined into a radial network, and components with
the electrical parameters their series are drawn from. See docs/architecture.md#the-demo-grid."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from core.domain import ComponentType, SwitchStatus
from core.grid.network import place_new_substations
from core.grid.substation_records import substation_for
from core.models import Component
from core.validation import name_key

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
# Two substations are joined by at most a double circuit; a line that would be a third leads
# to the next substation of its level, or, when all have theirs, is a line of the level below.
MAX_CIRCUITS = 2
STEP_DOWN = {110.0: 20.0, 20.0: 0.4}
POWER_FACTOR = 0.95
MAX_COMPONENTS = 100_000

PLACES = (
    "Nordhafen", "Lindenau", "Birkenhain", "Eichwalde", "Muehlbach", "Altstadt", "Westend",
    "Seefeld", "Hochfeld", "Kornmarkt", "Ostpark", "Ziegelei", "Rosental", "Wiesengrund",
    "Steinbach", "Am Hafen", "Lerchenberg", "Talheim", "Bruckhausen", "Sonnenhang",
    "Kirchdorf", "Waldrand", "Neuwerk", "Ufergarten", "Schlossberg", "Holzmarkt",
    "Brunnenfeld", "Weidenau", "Heidekamp", "Rotenbach", "Auental", "Fuchsberg",
)  # fmt: skip
SUBSTATION_CODE = "SS-{place}-{number:02d}"
NAME_PREFIX = {ComponentType.TRANSFORMER: "T", ComponentType.LINE: "L", ComponentType.SWITCH: "S"}
# A line between two substations is named after the pair (in name order) and its circuit.
CIRCUIT_NAME = "{first} – {second} {circuit}"


@dataclass(frozen=True, slots=True)
class Grid:
    """The seeded components and the electrical parameters their series are drawn from."""

    ids: Ints
    nominal_kv: Floats
    peak_mw: Floats  # 0 for an open switch
    solar_ratio: Floats  # midday feed-in as a share of peak load; 0 for most components
    voltage_setpoint: Floats  # per unit at no load
    voltage_drop: Floats  # per unit drop at full load
    substations: int


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


def create_components(
    session: Session, username: str, count: int, rng: np.random.Generator
) -> Grid:
    """Add ``count`` components, created by ``username``, to a grid laid out by ``rng``."""
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
    circuits: dict[frozenset[str], int] = {}
    for i, kind in enumerate(kinds):
        where = i % substation_count
        primary = is_primary[where]
        row = Component(
            substation=substations[where],
            component_type=kind.value,
            created_by=username,
            updated_by=username,
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
            if kind is ComponentType.LINE:
                row.to_substation = _other_end(
                    where, nominal[i], lines_at, parents, ends, substations, is_primary, circuits
                )
                while row.to_substation is None and nominal[i] in STEP_DOWN:
                    # Its neighbours at this level have their circuits: a level lower instead
                    # (a 0.4 kV line leaves to customers, no second end).
                    nominal[i] = STEP_DOWN[nominal[i]]
                    row.to_substation = _other_end(
                        where, nominal[i], lines_at, parents, ends, substations, is_primary,
                        circuits,
                    )  # fmt: skip
                lines_at[where] += 1
                peak[i] = rng.uniform(*FEEDER_PEAK_MW[nominal[i]])
                if row.to_substation is not None:
                    row.name = _circuit_name(substations[where], row.to_substation, circuits)
                row.voltage_kv = nominal[i]
                row.length_km = round(float(rng.uniform(*LINE_LENGTH_KM[nominal[i]])), 2)
                if rng.random() < SOLAR_LINE_SHARE:
                    solar[i] = rng.uniform(1.3, 2.0)
            else:
                peak[i] = rng.uniform(*FEEDER_PEAK_MW[nominal[i]])
                closed = rng.random() < CLOSED_SWITCH_SHARE
                row.status = (SwitchStatus.CLOSED if closed else SwitchStatus.OPEN).value
                peak[i] = peak[i] if closed else 0.0
        if row.name is None:  # a transformer, a switch, or a line leaving the demo grid
            number = numbers[where, kind] = numbers.get((where, kind), 0) + 1
            row.name = f"{NAME_PREFIX[kind]}{number}"
        rows.append(row)
    ids = {name: substation_for(session, name).id for name in substations}
    for row in rows:  # the records the names refer to
        row.substation_id = ids[row.substation]
        row.to_substation_id = ids[row.to_substation] if row.to_substation else None
        row.name_key = name_key(row.name)
    session.add_all(rows)
    session.flush()
    place_new_substations(session)
    return Grid(
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
    circuits: dict[frozenset[str], int],
) -> str | None:
    """The substation the next line of ``where`` at ``level_kv`` leads to: its feeding
    substation for the first line, then the others of its level in turn, passing those it
    already has ``MAX_CIRCUITS`` lines with (none when all have); none at 0.4 kV."""
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
    for turn in range(len(wanted)):
        other = wanted[(lines_at[where] + turn) % len(wanted)]
        # A substation fed from here has its first line to here still to come.
        owed = parents[other] == where and not lines_at[other]
        pair = frozenset((substations[where], substations[other]))
        if circuits.get(pair, 0) + owed < MAX_CIRCUITS:
            return substations[other]
    return None


def _circuit_name(here: str, there: str, circuits: dict[frozenset[str], int]) -> str:
    """The next circuit's name between ``here`` and ``there`` (whichever end it starts from),
    counted in ``circuits``: unique per pair, so parallel lines are told apart."""
    pair = frozenset((here, there))
    circuits[pair] = circuits.get(pair, 0) + 1
    first, second = sorted(pair)
    return CIRCUIT_NAME.format(first=first, second=second, circuit=circuits[pair])
