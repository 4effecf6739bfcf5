"""The grid as a graph: substations are nodes, lines with two ends are edges.

``read_network`` reads the inventory (one pass over ``components``, thousands of rows at
most) into nodes with their transformers and open switches, edges with their voltage level and
length, and the lines without a second end. Positions come from networkx's spring layout over
the whole graph (every substation and connection, whatever is filtered on the page), with a
fixed seed: the same grid always gets the same picture. A layout costs seconds at a thousand
substations, so it is remembered per grid structure (substations and connections) and only
computed again when that changes. ``network_figure`` draws it with Plotly; every node and
every line's midpoint carries what it opens (``picked``).
"""

from __future__ import annotations

import hashlib
import html
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import ComponentType, SwitchStatus
from core.models import Component

LAYOUT_SEED = 7
LAYOUT_ITERATIONS = 50
# From this many substations networkx minimises the layout's energy with SciPy instead of
# moving nodes step by step; fewer iterations keep a first view of a thousand substations
# within seconds on a busy machine (bench/RESULTS.md), at some cost in tidiness.
LARGE_GRID = 500
LARGE_GRID_ITERATIONS = 15
# Lines of these levels keep these colours, whatever else the grid has.
LEVEL_COLOURS = {110.0: "#c0392b", 20.0: "#2471a3", 0.4: "#1e8449"}
OTHER_COLOURS = ("#8e44ad", "#d68910", "#17a589", "#5d6d7e", "#a93226", "#2e86c1")
WIDTHS = (1.5, 3.0, 4.5, 6.0)
NAMED_NODES = 80  # line widths by length, shortest to longest


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


@dataclass(frozen=True, slots=True)
class Pick:
    """What a click on the diagram opens: a substation (by name) or a line (by id)."""

    kind: str  # "substation" or "line"
    key: str


@dataclass(slots=True)
class _Tally:
    components: int = 0
    transformers: int = 0
    open_switches: int = 0
    levels: set[float] = field(default_factory=set)


class _Layouts:
    """The positions of the last few grid structures, shared by every session."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._entries: OrderedDict[str, dict[str, tuple[float, float]]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many layouts were computed (not remembered)

    def get(
        self, nodes: Sequence[str], edges: Sequence[tuple[str, str]]
    ) -> dict[str, tuple[float, float]]:
        key = _structure_key(nodes, edges)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        positions = layout(nodes, edges)
        with self._lock:
            self.computed += 1
            self._entries[key] = positions
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return positions

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.computed = 0
        GRIDS.clear()
        FIGURES.clear()


LAYOUTS = _Layouts()


def _structure_key(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for node in nodes:
        digest.update(b"n\0" + node.encode("utf-8", "surrogatepass") + b"\0")
    for a, b in edges:
        digest.update(b"e\0" + f"{a}\0{b}".encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def layout(
    nodes: Sequence[str], edges: Iterable[tuple[str, str]]
) -> dict[str, tuple[float, float]]:
    """Positions in [-1, 1] for ``nodes`` from networkx's seeded spring layout: the same
    nodes and edges, in any order, always get the same positions."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_edges_from(sorted({(min(a, b), max(a, b)) for a, b in edges}))
    if graph.number_of_nodes() == 0:
        return {}
    if graph.number_of_nodes() == 1:
        return {next(iter(graph.nodes)): (0.0, 0.0)}
    large = graph.number_of_nodes() >= LARGE_GRID
    iterations = LARGE_GRID_ITERATIONS if large else LAYOUT_ITERATIONS
    positions = nx.spring_layout(graph, seed=LAYOUT_SEED, iterations=iterations)
    return {name: (float(x), float(y)) for name, (x, y) in positions.items()}


@dataclass(frozen=True, slots=True)
class _Grid:
    """Every substation (with its position) and every line, as the inventory has them."""

    substations: list[Substation]
    lines: list[Line]


class _Remembered:
    """The last few values computed for a key, shared by every session of the process."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# The grid as read, and figures drawn, per inventory version: a page that is opened again
# reads one row (the version) instead of every component.
GRIDS = _Remembered(4)
FIGURES = _Remembered(16)


def _grid_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever a component is added, deleted or edited."""
    count, highest, changed = session.execute(
        select(func.count(), func.max(Component.id), func.max(Component.updated_at))
    ).one()
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return (url, count, highest, changed)


def _read_grid(session: Session) -> _Grid:
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
    positions = LAYOUTS.get(sorted(tallies), edges)
    nodes = [
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
    return _Grid(substations=nodes, lines=lines)


def _whole_grid(session: Session) -> tuple[tuple[Any, ...], _Grid]:
    version = _grid_version(session)
    grid = GRIDS.get(version)
    if grid is None:
        grid = _read_grid(session)
        GRIDS.put(version, grid)
    return version, grid


def _shown(grid: _Grid, levels_kv: Iterable[float]) -> Network:
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


def read_network(*, session: Session, levels_kv: Iterable[float] = ()) -> Network:
    """The substations, connections and unconnected lines, for every level or only
    ``levels_kv``; positions from the layout of the whole grid."""
    return _shown(_whole_grid(session)[1], levels_kv)


def network_view(
    *, session: Session, levels_kv: Iterable[float] = (), search: str = ""
) -> tuple[Network, list[str], go.Figure]:
    """What the network page shows: the network of ``levels_kv``, the substations whose names
    contain ``search``, and its figure with those ringed; the figure is remembered per
    inventory version, levels and search (Plotly takes a while to build one of thousands of
    lines). Do not change the figure that comes back: others get the same one."""
    version, grid = _whole_grid(session)
    levels = tuple(sorted(set(levels_kv)))
    network = _shown(grid, levels)
    found = network.matching(search)
    key = (version, levels, tuple(found))
    figure = FIGURES.get(key)
    if figure is None:
        figure = network_figure(network, highlight=found)
        FIGURES.put(key, figure)
    return network, found, figure


def _array(values: Sequence[float]) -> npt.NDArray[np.float64]:
    """Numbers for Plotly as an array: it checks a list element by element, an array at once
    (a thousand substations drew ten times slower from lists)."""
    return np.asarray(values, dtype=np.float64)


def _texts(values: Iterable[str]) -> npt.NDArray[np.object_]:
    return np.asarray(list(values), dtype=object)


def level_colour(level_kv: float, levels_kv: Sequence[float]) -> str:
    if level_kv in LEVEL_COLOURS:
        return LEVEL_COLOURS[level_kv]
    others = [level for level in levels_kv if level not in LEVEL_COLOURS]
    return OTHER_COLOURS[others.index(level_kv) % len(OTHER_COLOURS)]


def _width(length_km: float, longest_km: float) -> float:
    """Line width by length: four classes, on a square-root scale so short feeders show."""
    share = math.sqrt(length_km / longest_km) if longest_km > 0 else 1.0
    return WIDTHS[min(len(WIDTHS) - 1, int(share * len(WIDTHS)))]


def _plain(name: str) -> str:
    """A name as Plotly text: its labels understand a few HTML tags (links among them), so
    ``<`` and ``&`` are written as entities and every name shows as typed."""
    return html.escape(name, quote=False)


def _kv(level: float) -> str:
    return f"{level:g} kV"


def network_figure(network: Network, *, highlight: Sequence[str] = ()) -> go.Figure:
    """Lines coloured by level and wider the longer they are, a clickable point at each
    line's middle, substations (a square ring where there are transformers, a cross where a
    switch is open), and a ring around the ``highlight``ed ones."""
    figure = go.Figure()
    where = {node.name: (node.x, node.y) for node in network.substations}
    longest = max((line.length_km for line in network.lines), default=0.0)
    for level in network.levels_kv:
        at_level = [line for line in network.lines if line.voltage_kv == level]
        colour = level_colour(level, network.levels_kv)
        for width in WIDTHS:
            drawn = [line for line in at_level if _width(line.length_km, longest) == width]
            xs: list[float] = []
            ys: list[float] = []
            for line in drawn:
                (x0, y0), (x1, y1) = where[line.substation], where[line.to_substation or ""]
                xs += [x0, x1, math.nan]  # NaN: a gap between two lines
                ys += [y0, y1, math.nan]
            if drawn:
                figure.add_trace(
                    go.Scatter(
                        x=_array(xs),
                        y=_array(ys),
                        mode="lines",
                        line={"color": colour, "width": width},
                        hoverinfo="skip",
                        legendgroup=_kv(level),
                        showlegend=False,
                    )
                )
        if at_level:
            middles = [
                tuple(
                    (a + b) / 2
                    for a, b in zip(
                        where[line.substation], where[line.to_substation or ""], strict=True
                    )
                )
                for line in at_level
            ]
            figure.add_trace(
                go.Scatter(
                    x=_array([x for x, _y in middles]),
                    y=_array([y for _x, y in middles]),
                    mode="markers",
                    marker={
                        "color": "white",
                        "size": 9,
                        "symbol": "diamond",
                        "line": {"color": colour, "width": 2},
                    },
                    name=f"{_kv(level)} lines",
                    legendgroup=_kv(level),
                    customdata=_texts(f"line:{line.id}" for line in at_level),
                    hovertext=_texts(
                        f"{_plain(line.name)}: {_kv(line.voltage_kv)}, {line.length_km:g} km<br>"
                        f"{_plain(line.substation)} to {_plain(line.to_substation or '')}"
                        for line in at_level
                    ),
                    hoverinfo="text",
                )
            )
    nodes = network.substations
    marks = (
        ("With transformers", [n for n in nodes if n.transformers], "square-open", 16, "#7d3c98"),
        (
            "With an open switch",
            [n for n in nodes if n.open_switches],
            "x-thin-open",
            14,
            "#e67e22",
        ),
        ("Found", [n for n in nodes if n.name in set(highlight)], "circle-open", 26, "#f1c40f"),
    )
    for label, marked, symbol, size, colour in marks:
        if marked:
            figure.add_trace(
                go.Scatter(
                    x=_array([node.x for node in marked]),
                    y=_array([node.y for node in marked]),
                    mode="markers",
                    marker={
                        "symbol": symbol,
                        "size": size,
                        "color": colour,
                        "line": {"width": 3 if label == "Found" else 2, "color": colour},
                    },
                    name=label,
                    hoverinfo="skip",
                )
            )
    figure.add_trace(
        go.Scatter(
            x=_array([node.x for node in nodes]),
            y=_array([node.y for node in nodes]),
            # Names beside the nodes while they fit; on a larger grid, on hover.
            mode="markers+text" if len(nodes) <= NAMED_NODES else "markers",
            text=_texts(_plain(node.name) for node in nodes),
            textposition="top center",
            textfont={"size": 11, "color": "#34495e"},
            marker={"color": "#1b2631", "size": 9, "line": {"color": "white", "width": 1}},
            name="Substations",
            customdata=_texts(f"substation:{node.name}" for node in nodes),
            hovertext=_texts(
                f"<b>{_plain(node.name)}</b><br>{node.components} components, "
                f"{node.transformers} transformers, {node.open_switches} open switches<br>"
                + ", ".join(_kv(level) for level in node.levels_kv)
                for node in nodes
            ),
            hoverinfo="text",
        )
    )
    figure.update_layout(
        height=720,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.02},
        hovermode="closest",
        clickmode="event+select",
        dragmode="pan",
        plot_bgcolor="white",
    )
    return figure


def picked(points: Sequence[dict[str, Any]]) -> Pick | None:
    """What the first clicked point of the diagram opens: its ``customdata`` is
    ``substation:NAME`` or ``line:ID`` (marks and line strokes carry none)."""
    for point in points:
        data = point.get("customdata")
        if isinstance(data, list | tuple) and len(data) == 1:  # as some Plotly versions send it
            data = data[0]
        if isinstance(data, str):
            kind, colon, key = data.partition(":")
            if colon and kind in ("substation", "line") and key:
                return Pick(kind=kind, key=key)
    return None
