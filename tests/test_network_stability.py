"""The network map stays put: adding a substation and a line moves the substations already on
it less than a small tolerance, and a manager's pinned place is where the map draws it."""

from __future__ import annotations

import math

from core.grid.network import forget, read_network
from core.grid.substation_records import update_substation
from tests.factories import LINE, MANAGER, make_component

TOLERANCE = 0.02  # of the map's width of about 2
RING = ["Seefeld", "Fuchsberg", "Hilltop", "Lakeside", "Riverside", "Oldtown"]


def _positions(db) -> dict[str, tuple[float, float]]:
    forget()  # as a fresh process would: nothing remembered between the two reads
    with db.read() as session:
        return {node.name: (node.x, node.y) for node in read_network(session=session).substations}


def _line(db, number: int, start: str, end: str) -> None:
    make_component(db, LINE, name=f"L{number}", substation=start, to_substation=end)


def test_adding_a_substation_and_a_line_moves_the_others_little(db):
    for number, (start, end) in enumerate(zip(RING, RING[1:] + RING[:1], strict=True)):
        _line(db, number, start, end)
    _line(db, 10, "Seefeld", "Hilltop")
    before = _positions(db)
    _line(db, 11, "Lakeside", "Nowhere-Else")
    _line(db, 12, "Nowhere-Else", "Fuchsberg")
    after = _positions(db)
    assert set(after) == set(before) | {"Nowhere-Else"}
    moved = {name: math.dist(before[name], after[name]) for name in before}
    assert {name: d for name, d in moved.items() if d > TOLERANCE} == {}


def test_a_pinned_substation_stays_where_the_manager_put_it(db):
    _line(db, 1, "Seefeld", "Fuchsberg")
    with db.write() as session:
        update_substation(
            session=session, actor=MANAGER, name="Fuchsberg", position=(0.9, -0.8), pinned=True
        )
    _line(db, 2, "Fuchsberg", "Hilltop")
    assert _positions(db)["Fuchsberg"] == (0.9, -0.8)
