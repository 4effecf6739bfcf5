"""The network view's Plotly figure: lines by voltage level and length, substations with their
marks, and what a click on it opens (``picked``). The graph is core/grid/network.py. See
docs/architecture.md#the-grid-views."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
from sqlalchemy.orm import Session

from core.alarms.summary import NetworkAlarms, network_alarms
from core.counts import format_count
from core.diagram import SEVERITY_COLOURS
from core.grid.network import Line, Network, at_levels, circuits, whole_grid
from core.remembered import Remembered
from views.figures.chart_text import plain

# Lines of these levels keep these colours, whatever else the grid has.
LEVEL_COLOURS = {110.0: "#c0392b", 20.0: "#2471a3", 0.4: "#1e8449"}
OTHER_COLOURS = ("#8e44ad", "#d68910", "#17a589", "#5d6d7e", "#a93226", "#2e86c1")
WIDTHS = (1.5, 3.0, 4.5, 6.0)  # line widths by length, shortest to longest
NAMED_NODES = 80  # up to this many substations, their names stand beside them
# Parallel lines bow apart by this share of their length each, drawn through this many points.
CIRCUIT_SPREAD = 0.15
CURVE_POINTS = 13
# What a severity's mark says in the legend: the worst active, unshelved alarm decides.
SEVERITY_NAMES = {"alarm": "In alarm", "warning": "In warning (no alarm)"}
# Figures drawn per inventory version, levels and search.
FIGURES: Remembered[tuple[Any, ...], go.Figure] = Remembered(16)


@dataclass(frozen=True, slots=True)
class Pick:
    """What a click on the diagram opens: a substation (by name) or a line (by id)."""

    kind: str  # "substation" or "line"
    key: str


def network_view(
    *, session: Session, levels_kv: Iterable[float] = (), search: str = ""
) -> tuple[Network, list[str], go.Figure]:
    """What the network page shows: the network of ``levels_kv``, the substations whose names
    contain ``search``, and its figure with those ringed and what is in alarm coloured; the
    figure is remembered per inventory version, levels, search and alarm colours (Plotly takes
    a while to build one of thousands of lines). Do not change the figure that comes back:
    others get the same one."""
    version, grid = whole_grid(session)
    alarms = network_alarms(session=session)
    levels = tuple(sorted(set(levels_kv)))
    network = at_levels(grid, levels)
    found = network.matching(search)
    key = (version, levels, tuple(found), alarms.key())
    figure = FIGURES.remember(key, lambda: network_figure(network, highlight=found, alarms=alarms))
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


def _kv(level: float) -> str:
    return f"{level:g} kV"


Point = tuple[float, float]
Path = tuple[list[float], list[float], Point]  # the xs and ys drawn, and the middle


def _paths(network: Network) -> dict[int, Path]:
    """Each line's drawn points and its middle (where its clickable diamond sits): straight
    between its substations, or, where several lines join the same two, a curve bowed to its
    own side, so that every one of them has its own stroke, hover and click."""
    where = {node.name: (node.x, node.y) for node in network.substations}
    places = circuits(network.lines)
    paths: dict[int, Path] = {}
    bowed: list[Line] = []
    for line in network.lines:
        if places[line.id][1] > 1:
            bowed.append(line)
            continue
        (x0, y0), (x1, y1) = where[line.substation], where[line.to_substation or ""]
        paths[line.id] = ([x0, x1], [y0, y1], ((x0 + x1) / 2, (y0 + y1) / 2))
    if bowed:
        paths |= _bowed(bowed, where, places)
    return paths


def _bowed(
    lines: list[Line], where: dict[str, Point], places: dict[int, tuple[int, int]]
) -> dict[int, Path]:
    """Quadratic curves between each line's substations whose middles lie apart from each
    other by ``CIRCUIT_SPREAD`` of their length, on sides that do not depend on which end a
    line starts from (all lines at once: a large grid has thousands of them)."""
    starts = _array2([where[line.substation] for line in lines])
    ends = _array2([where[line.to_substation or ""] for line in lines])
    flipped = np.array([line.substation > (line.to_substation or "") for line in lines])
    along = np.where(flipped[:, None], starts - ends, ends - starts)
    length = np.hypot(along[:, 0], along[:, 1])
    length[length == 0] = 1.0
    normal = np.stack([-along[:, 1], along[:, 0]], axis=1) / length[:, None]
    side = np.array([places[line.id][0] - (places[line.id][1] - 1) / 2 for line in lines])
    middle = (starts + ends) / 2
    apex = middle + normal * (side * CIRCUIT_SPREAD * length)[:, None]
    control = 2 * apex - middle  # the curve passes through the apex at its middle
    t = np.linspace(0.0, 1.0, CURVE_POINTS)[None, :, None]
    curves = (
        (1 - t) ** 2 * starts[:, None] + 2 * (1 - t) * t * control[:, None] + t**2 * ends[:, None]
    )
    xs, ys, tops = curves[:, :, 0].tolist(), curves[:, :, 1].tolist(), apex.tolist()
    return {
        line.id: (x, y, (top[0], top[1]))
        for line, x, y, top in zip(lines, xs, ys, tops, strict=True)
    }


def _array2(points: list[Point]) -> npt.NDArray[np.float64]:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def _alarm_lines(
    figure: go.Figure,
    network: Network,
    paths: dict[int, Path],
    lines: dict[int, str],
) -> None:
    """A wide stroke in its severity's colour under each line in alarm, along its path."""
    for severity, colour in SEVERITY_COLOURS.items():
        xs: list[float] = []
        ys: list[float] = []
        for line in network.lines:
            if lines.get(line.id) == severity:
                line_xs, line_ys, _middle = paths[line.id]
                xs += [*line_xs, math.nan]
                ys += [*line_ys, math.nan]
        if xs:
            figure.add_trace(
                go.Scatter(
                    x=_array(xs), y=_array(ys), mode="lines", hoverinfo="skip",
                    line={"color": colour, "width": WIDTHS[-1] + 6}, opacity=0.55,
                    name=f"Line {SEVERITY_NAMES[severity].lower()}", legendrank=1,
                )
            )  # fmt: skip


def _alarm_nodes(figure: go.Figure, network: Network, substations: dict[str, str]) -> None:
    """A disc in its severity's colour behind each substation with a component in alarm."""
    for severity, colour in SEVERITY_COLOURS.items():
        marked = [node for node in network.substations if substations.get(node.name) == severity]
        if marked:
            figure.add_trace(
                go.Scatter(
                    x=_array([node.x for node in marked]),
                    y=_array([node.y for node in marked]),
                    mode="markers", hoverinfo="skip", legendrank=1,
                    marker={"symbol": "circle", "size": 22, "color": colour, "opacity": 0.7},
                    name=f"Substation {SEVERITY_NAMES[severity].lower()}",
                )
            )  # fmt: skip


def network_figure(
    network: Network, *, highlight: Sequence[str] = (), alarms: NetworkAlarms | None = None
) -> go.Figure:
    """Lines coloured by level and wider the longer they are (parallel ones bowed apart), a
    clickable point at each line's middle, substations (a square ring where there are
    transformers, a cross where a switch is open), a ring around the ``highlight``ed ones, and
    the lines and substations in ``alarms`` marked in their worst severity's colour."""
    figure = go.Figure()
    paths = _paths(network)
    longest = max((line.length_km for line in network.lines), default=0.0)
    if alarms is not None:
        _alarm_lines(figure, network, paths, alarms.lines)
    for level in network.levels_kv:
        at_level = [line for line in network.lines if line.voltage_kv == level]
        colour = level_colour(level, network.levels_kv)
        for width in WIDTHS:
            drawn = [line for line in at_level if _width(line.length_km, longest) == width]
            xs: list[float] = []
            ys: list[float] = []
            for line in drawn:
                line_xs, line_ys, _middle = paths[line.id]
                xs += [*line_xs, math.nan]  # NaN: a gap between two lines
                ys += [*line_ys, math.nan]
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
            middles = [paths[line.id][2] for line in at_level]
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
                        f"{plain(line.name)}: {_kv(line.voltage_kv)}, {line.length_km:g} km<br>"
                        f"{plain(line.substation)} to {plain(line.to_substation or '')}"
                        for line in at_level
                    ),
                    hoverinfo="text",
                )
            )
    nodes = network.substations
    if alarms is not None:
        _alarm_nodes(figure, network, alarms.substations)
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
            text=_texts(plain(node.name) for node in nodes),
            textposition="top center",
            textfont={"size": 11, "color": "#34495e"},
            marker={"color": "#1b2631", "size": 9, "line": {"color": "white", "width": 1}},
            name="Substations",
            customdata=_texts(f"substation:{node.name}" for node in nodes),
            hovertext=_texts(
                f"<b>{plain(node.name)}</b><br>{format_count(node.components, 'component')}, "
                f"{format_count(node.transformers, 'transformer')}, "
                f"{format_count(node.open_switches, 'open switch', 'open switches')}<br>"
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
