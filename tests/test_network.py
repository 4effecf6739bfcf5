"""The network view's data: nodes, edges, unconnected lines, a stable layout, the figure."""

from __future__ import annotations

import itertools
import math

import pytest

from core.grid import network
from core.grid.network import layout, read_network
from core.seed import seed_grid
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component
from views.figures.network_figure import (
    FIGURES,
    LEVEL_COLOURS,
    NAMED_NODES,
    Pick,
    network_figure,
    network_view,
    picked,
)


@pytest.fixture(autouse=True)
def _forget():
    network.forget()
    FIGURES.clear()


def read(db, **options):
    with db.read() as session:
        return read_network(session=session, **options)


def small_grid(db):
    make_component(db, TRANSFORMER, substation="North", voltage_kv=110)
    make_component(db, SWITCH, substation="North", status="open")
    make_component(db, SWITCH, name="S2", substation="North", status="closed")
    make_component(db, LINE, name="L1", substation="North", to_substation="East", voltage_kv=110)
    make_component(db, LINE, name="L2", substation="East", to_substation="South", length_km=2)
    make_component(db, LINE, name="L3", substation="South", voltage_kv=0.4, length_km=0.3)
    make_component(db, TRANSFORMER, name="T2", substation="South", voltage_kv=20, capacity_mva=1)


def test_substations_are_nodes_with_their_transformers_and_open_switches(db):
    small_grid(db)
    seen = read(db)
    # East has no component of its own: a line ending there makes it a substation too.
    assert [(s.name, s.components, s.transformers, s.open_switches) for s in seen.substations] == [
        ("East", 1, 0, 0),
        ("North", 4, 1, 1),
        ("South", 2, 1, 0),
    ]
    assert {s.name: s.levels_kv for s in seen.substations} == {
        "East": (110.0, 20.0),
        "North": (110.0,),
        "South": (20.0, 0.4),
    }
    assert seen.total_substations == 3
    assert seen.levels_kv == [110.0, 20.0, 0.4]


def test_lines_with_two_ends_are_edges_and_the_others_are_kept_aside(db):
    small_grid(db)
    seen = read(db)
    assert [(line.name, line.substation, line.to_substation) for line in seen.lines] == [
        ("L2", "East", "South"),
        ("L1", "North", "East"),
    ]
    assert [(line.name, line.voltage_kv, line.length_km) for line in seen.unconnected] == [
        ("L3", 0.4, 0.3)
    ]


def test_a_level_filter_keeps_its_lines_and_substations_in_place(db):
    small_grid(db)
    whole = {s.name: (s.x, s.y) for s in read(db).substations}
    seen = read(db, levels_kv=[110.0])
    assert [line.name for line in seen.lines] == ["L1"]
    assert seen.unconnected == []
    assert {s.name: (s.x, s.y) for s in seen.substations} == {
        "East": whole["East"],
        "North": whole["North"],
    }
    low = read(db, levels_kv=[0.4])
    assert [s.name for s in low.substations] == ["South"]
    assert [line.name for line in low.unconnected] == ["L3"]


def test_search_finds_substations_by_part_of_their_name(db):
    small_grid(db)
    seen = read(db)
    assert seen.matching("  OUTH ") == ["South"]
    assert seen.matching("") == []
    assert seen.matching("nowhere") == []


def test_the_layout_is_stable_and_remembered_until_the_grid_changes(db):
    small_grid(db)
    first = {s.name: (s.x, s.y) for s in read(db).substations}
    assert network.LAYOUTS.computed == 1
    assert {s.name: (s.x, s.y) for s in read(db).substations} == first
    assert network.LAYOUTS.computed == 1  # remembered
    network.forget()
    assert {s.name: (s.x, s.y) for s in read(db).substations} == first  # recomputed alike
    make_component(db, LINE, name="L9", substation="South", to_substation="West")
    assert "West" in {s.name for s in read(db).substations}
    assert network.LAYOUTS.computed == 2


def test_the_layout_does_not_depend_on_the_order_of_the_data():
    nodes = ["A", "B", "C", "D"]
    edges = [("A", "B"), ("C", "B"), ("D", "C")]
    assert layout(nodes, edges) == layout(nodes[::-1], [(b, a) for a, b in reversed(edges)])


def test_connected_substations_sit_closer_than_unconnected_ones():
    """A readable layout: neighbours near each other, strangers apart, nobody on top of
    anybody (a path of six, the ends far apart)."""
    names = [f"S{i}" for i in range(6)]
    positions = layout(names, list(itertools.pairwise(names)))
    distance = lambda a, b: math.dist(positions[a], positions[b])  # noqa: E731
    neighbours = max(distance(a, b) for a, b in itertools.pairwise(names))
    assert neighbours < distance("S0", "S5")
    assert min(distance(a, b) for a in names for b in names if a < b) > 0.05


def test_a_seeded_grid_is_one_network_of_all_its_substations(db):
    with db.write() as session:
        summary = seed_grid(session=session, actor=MANAGER, components=200, per_component=0)
    seen = read(db)
    assert len(seen.substations) == summary.substations
    links = {frozenset((line.substation, line.to_substation)) for line in seen.lines}
    assert len(links) == summary.substations - 1
    assert {line.voltage_kv for line in seen.unconnected} <= {0.4, 110.0}


def test_the_figure_carries_what_each_click_opens(db):
    small_grid(db)
    seen = read(db)
    figure = network_figure(seen, highlight=["South"])
    names = [trace.name for trace in figure.data if trace.name]
    assert names == [
        "110 kV lines",
        "20 kV lines",
        "With transformers",
        "With an open switch",
        "Found",
        "Substations",
    ]
    by_name = {trace.name: trace for trace in figure.data if trace.name}
    assert list(by_name["Substations"].customdata) == [
        "substation:East",
        "substation:North",
        "substation:South",
    ]
    l1 = next(line for line in seen.lines if line.name == "L1")
    assert list(by_name["110 kV lines"].customdata) == [f"line:{l1.id}"]
    assert list(by_name["Found"].x) == [next(s.x for s in seen.substations if s.name == "South")]
    # Colours by level, width by length (L1 is 12.5 km, L2 2 km).
    widths = {trace.line.color: trace.line.width for trace in figure.data if trace.mode == "lines"}
    assert widths == {LEVEL_COLOURS[110.0]: 6.0, LEVEL_COLOURS[20.0]: 3.0}


def test_a_click_opens_a_substation_or_a_line_and_nothing_else():
    assert picked([{"customdata": "substation:North: 2"}]) == Pick("substation", "North: 2")
    assert picked([{"x": 1}, {"customdata": ["line:7"]}]) == Pick("line", "7")
    assert picked([{"customdata": "transformer:3"}]) is None
    assert picked([{"customdata": "line:"}]) is None
    assert picked([{"x": 1, "y": 2}]) is None
    assert picked([]) is None


def test_the_view_remembers_figures_until_the_inventory_changes(db):
    small_grid(db)
    with db.read() as session:
        shown, found, figure = network_view(session=session, search="south")
        again = network_view(session=session, search="south")[2]
        other = network_view(session=session, levels_kv=[110.0])[2]
    assert found == ["South"]
    assert [s.name for s in shown.substations] == ["East", "North", "South"]
    assert again is figure and other is not figure
    make_component(db, LINE, name="L9", substation="South", to_substation="West")
    with db.read() as session:
        shown, _found, redrawn = network_view(session=session, search="south")
    assert redrawn is not figure
    assert "West" in [s.name for s in shown.substations]


def test_names_show_beside_the_nodes_while_they_fit(db):
    small_grid(db)
    few = {t.name: t for t in network_figure(read(db)).data}["Substations"]
    assert few.mode == "markers+text" and list(few.text) == ["East", "North", "South"]
    for number in range(NAMED_NODES):
        make_component(db, SWITCH, name="S", substation=f"Far {number:03d}")
    many = {t.name: t for t in network_figure(read(db)).data}["Substations"]
    assert many.mode == "markers"  # names on hover only


def test_names_reach_the_diagram_as_text_not_markup(db):
    hostile = '<a href="https://evil.example">x</a> & co'
    make_component(db, LINE, name="<b>L</b>", substation=hostile, to_substation="East")
    figure = network_figure(read(db))
    nodes = {t.name: t for t in figure.data}["Substations"]
    shown = '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp; co'
    assert shown in list(nodes.text) and f"<b>{shown}</b>" in nodes.hovertext[0]
    (line,) = {t.name: t for t in figure.data}["20 kV lines"].hovertext
    assert line.startswith("&lt;b&gt;L&lt;/b&gt;: 20 kV")
    assert "<a" not in "".join([*nodes.text, *nodes.hovertext, line])


def test_parallel_lines_each_get_their_own_stroke_and_clickable_middle(db):
    made = [
        make_component(db, LINE, name=f"Seefeld-Fuchsberg {n}", substation="Seefeld",
                       to_substation="Fuchsberg", voltage_kv=110)
        for n in (1, 2, 3)
    ] + [  # one from the other end joins the same two substations
        make_component(db, LINE, name="Fuchsberg-Seefeld 4", substation="Fuchsberg",
                       to_substation="Seefeld", voltage_kv=110)
    ]  # fmt: skip
    make_component(db, LINE, name="L9", substation="Seefeld", to_substation="Talheim")
    seen = read(db)
    assert network.circuits(seen.lines) == {
        made[0].id: (0, 4), made[1].id: (1, 4), made[2].id: (2, 4), made[3].id: (3, 4),
        next(line.id for line in seen.lines if line.name == "L9"): (0, 1),
    }  # fmt: skip
    figure = network_figure(seen)
    diamonds = next(trace for trace in figure.data if trace.name == "110 kV lines")
    middles = dict(zip(diamonds.customdata, zip(diamonds.x, diamonds.y, strict=True), strict=True))
    assert set(middles) == {f"line:{line.id}" for line in made}
    assert len(set(middles.values())) == 4  # four places to click, not one
    points = list(middles.values())
    apart = min(math.dist(a, b) for a, b in itertools.combinations(points, 2))
    where = {node.name: (node.x, node.y) for node in seen.substations}
    span = math.dist(where["Seefeld"], where["Fuchsberg"])
    assert apart > 0.1 * span  # far enough apart to click each
    hover = " ".join(diamonds.hovertext)
    assert all(line.name in hover for line in made)
    # Each stroke passes through its own diamond: the curve and its click target agree.
    strokes = [trace for trace in figure.data if trace.mode == "lines"]
    drawn = {(round(x, 9), round(y, 9)) for t in strokes for x, y in zip(t.x, t.y, strict=True)}
    assert all((round(x, 9), round(y, 9)) in drawn for x, y in points)
