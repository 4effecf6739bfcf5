"""The grid as a graph: substations are nodes, lines with two ends are edges, laid out with a
fixed seed around the stored positions, which never move. The figure is
views/figures/network_figure.py. See docs/design.md#substations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.domain import ComponentType, SwitchStatus
from core.models import Component
from core.models import Substation as SubstationRow
from core.remembered import Remembered

LAYOUT_SEED = 7
LAYOUT_ITERATIONS = 50
# From this many substations networkx minimises the layout's energy with SciPy instead of
# moving nodes step by step; fewer iterations keep a first view of a thousand substations
# within seconds on a busy machine (bench/JOURNAL.md), at some cost in tidiness.
LARGE_GRID = 500
LARGE_GRID_ITERATIONS = 15


@dataclass(frozen=True, slots=True)
class Substation:
    name: str
    x: float
    y: float
    components: int
    transformers: int
    open_switches: int
    levels_kv: tuple[float, ...]  # of its transformers and lines, highest first


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    name: str
    substation: str
    to_substation: str | None
    voltage_kv: float
    length_km: float


@dataclass(frozen=True, slots=True)
class Network:
    """What the network view draws. ``substations`` and ``lines`` are those of the chosen
    levels; ``unconnected`` are the chosen levels' lines without a second end."""

    substations: list[Substation]
    lines: list[Line]
    unconnected: list[Line]
    levels_kv: list[float]  # every level of the grid's lines, highest first
    total_substations: int

    def matching(self, search: str) -> list[str]:
        """Names of shown substations containing ``search`` (case-insensitive)."""
        wanted = search.strip().casefold()
        if not wanted:
            return []
        return [node.name for node in self.substations if wanted in node.name.casefold()]


@dataclass(slots=True)
class _Tally:
    components: int = 0
    transformers: int = 0
    open_switches: int = 0
    levels: set[float] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Grid:
    """Every substation (with its position) and every line, as the inventory has them."""

    substations: list[Substation]
    lines: list[Line]


Positions = dict[str, tuple[float, float]]
# The positions of the last few grid structures, and the grid as read per inventory version:
# a page that is opened again reads one row (the version) instead of every component.
LAYOUTS: Remembered[str, Positions] = Remembered(4)
GRIDS: Remembered[tuple[Any, ...], Grid] = Remembered(4)


def forget() -> None:
    """Forget every layout and grid read, so that the next view computes them afresh."""
    LAYOUTS.clear()
    GRIDS.clear()


def _structure_key(
    nodes: Sequence[str], edges: Sequence[tuple[str, str]], stored: Positions
) -> str:
    digest = hashlib.sha256()
    for node in nodes:
        digest.update(b"n\0" + node.encode("utf-8", "surrogatepass") + b"\0")
        if node in stored:
            digest.update(repr(stored[node]).encode())
    for a, b in edges:
        digest.update(b"e\0" + f"{a}\0{b}".encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def layout(
    nodes: Sequence[str], edges: Iterable[tuple[str, str]], stored: Positions | None = None
) -> Positions:
    """Positions for ``nodes`` from networkx's seeded spring layout: the same nodes, edges and
    stored positions, in any order, always get the same positions. Stored positions stay where
    they are; the other nodes are placed around them (in [-1, 1] when none is stored)."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_edges_from(sorted({(min(a, b), max(a, b)) for a, b in edges}))
    kept = {name: xy for name, xy in (stored or {}).items() if name in graph}
    if graph.number_of_nodes() == 0:
        return {}
    if len(kept) == graph.number_of_nodes():
        return dict(kept)
    if graph.number_of_nodes() == 1:
        return {next(iter(graph.nodes)): (0.0, 0.0)}
    large = graph.number_of_nodes() >= LARGE_GRID
    iterations = LARGE_GRID_ITERATIONS if large else LAYOUT_ITERATIONS
    if kept:
        positions = nx.spring_layout(
            graph, pos=kept, fixed=sorted(kept), seed=LAYOUT_SEED, iterations=iterations
        )
    else:
        positions = nx.spring_layout(graph, seed=LAYOUT_SEED, iterations=iterations)
    return {name: (float(x), float(y)) for name, (x, y) in positions.items()}


def place_new_substations(session: Session) -> None:
    """Store a position for every substation that has none, laid out around the stored ones
    (which stay): a write that adds a substation or a line moves no other substation."""
    if session.scalar(select(func.count()).where(SubstationRow.x.is_(None))) == 0:
        return
    nodes, edges, stored = _structure(session)
    for name, (x, y) in layout(nodes, edges, stored).items():
        if name not in stored:
            session.execute(
                update(SubstationRow).where(SubstationRow.name == name).values(x=x, y=y)
            )


def _structure(session: Session) -> tuple[list[str], list[tuple[str, str]], Positions]:
    """Every substation's name, every line's two ends and the stored positions."""
    rows = session.execute(select(SubstationRow.name, SubstationRow.x, SubstationRow.y)).all()
    stored = {name: (x, y) for name, x, y in rows if x is not None and y is not None}
    ends = session.execute(
        select(Component.substation, Component.to_substation).where(
            Component.to_substation.is_not(None)
        )
    ).all()
    return sorted(name for name, _x, _y in rows), [(a, str(b)) for a, b in ends], stored


def _grid_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever a component is added, deleted or edited."""
    count, highest, changed = session.execute(
        select(func.count(), func.max(Component.id), func.max(Component.updated_at))
    ).one()
    places = session.execute(
        select(
            func.count(),
            func.max(SubstationRow.id),
            func.sum(SubstationRow.x),
            func.sum(SubstationRow.y),
        )
    ).one()
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return (url, count, highest, changed, *places)


def _read_grid(session: Session) -> Grid:
    rows = session.execute(
        select(
            Component.id,
            Component.name,
            Component.substation,
            Component.component_type,
            Component.voltage_kv,
            Component.length_km,
            Component.status,
            Component.to_substation,
        ).order_by(Component.substation, Component.name)
    ).all()
    tallies: dict[str, _Tally] = {}
    lines: list[Line] = []
    for component_id, name, substation, kind, voltage, length, status, to in rows:
        tally = tallies.setdefault(substation, _Tally())
        tally.components += 1
        if kind == ComponentType.SWITCH.value:
            tally.open_switches += status == SwitchStatus.OPEN.value
            continue
        level = float(voltage or 0.0)  # transformers and lines always have one
        tally.levels.add(level)
        if kind == ComponentType.TRANSFORMER.value:
            tally.transformers += 1
        else:
            lines.append(Line(component_id, name, substation, to, level, float(length or 0.0)))
    for line in lines:  # an end that has no component of its own is a substation too
        if line.to_substation is not None:
            tallies.setdefault(line.to_substation, _Tally()).levels.add(line.voltage_kv)
    edges = [(line.substation, end) for line in lines if (end := line.to_substation)]
    records = session.execute(select(SubstationRow.name, SubstationRow.x, SubstationRow.y)).all()
    for name, _x, _y in records:  # a substation with nothing in it yet is on the map too
        tallies.setdefault(name, _Tally())
    stored = {name: (x, y) for name, x, y in records if x is not None and y is not None}
    nodes = sorted(tallies)
    positions = LAYOUTS.remember(
        _structure_key(nodes, edges, stored), lambda: layout(nodes, edges, stored)
    )
    substations = [
        Substation(
            name=name,
            x=positions[name][0],
            y=positions[name][1],
            components=tally.components,
            transformers=tally.transformers,
            open_switches=tally.open_switches,
            levels_kv=tuple(sorted(tally.levels, reverse=True)),
        )
        for name, tally in sorted(tallies.items())
    ]
    return Grid(substations=substations, lines=lines)


def whole_grid(session: Session) -> tuple[tuple[Any, ...], Grid]:
    """The inventory's version and its grid, read again only when the version changed."""
    version = _grid_version(session)
    return version, GRIDS.remember(version, lambda: _read_grid(session))


def at_levels(grid: Grid, levels_kv: Iterable[float]) -> Network:
    """What of ``grid`` the chosen levels show (every level when none is chosen)."""
    chosen = set(levels_kv)
    shown_lines = [line for line in grid.lines if not chosen or line.voltage_kv in chosen]
    touched = {line.substation for line in shown_lines} | {
        line.to_substation for line in shown_lines if line.to_substation
    }
    return Network(
        substations=[
            node
            for node in grid.substations
            if not chosen or node.name in touched or chosen.intersection(node.levels_kv)
        ],
        lines=[line for line in shown_lines if line.to_substation],
        unconnected=[line for line in shown_lines if not line.to_substation],
        levels_kv=sorted({line.voltage_kv for line in grid.lines}, reverse=True),
        total_substations=len(grid.substations),
    )


def circuits(lines: Iterable[Line]) -> dict[int, tuple[int, int]]:
    """Each line's place among the lines joining the same two substations (whichever end
    each starts from), and how many they are: ``{line id: (place, count)}``, place from 0,
    in the order of the lines' ids. Parallel circuits are drawn apart, each reachable."""
    pairs: dict[frozenset[str], list[int]] = {}
    for line in sorted(lines, key=lambda line: line.id):
        if line.to_substation is not None:
            pairs.setdefault(frozenset((line.substation, line.to_substation)), []).append(line.id)
    return {
        line_id: (place, len(ids)) for ids in pairs.values() for place, line_id in enumerate(ids)
    }


def read_network(*, session: Session, levels_kv: Iterable[float] = ()) -> Network:
    """The substations, connections and unconnected lines, for every level or only
    ``levels_kv``; positions from the layout of the whole grid."""
    return at_levels(whole_grid(session)[1], levels_kv)
