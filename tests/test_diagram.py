"""A substation's single-line diagram: valid SVG with one symbol per component, its state and
labels; hostile names stay text; no two labels overlap at any size; the alarm colour hook."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from itertools import combinations
from urllib.parse import quote
from xml.parsers import expat

import pytest

from core.alarms.records import list_alarms, shelve_alarm
from core.diagram import SEVERITY_COLOURS, substation_diagram, substation_svg
from core.diagram_layout import COLUMNS, text_width
from core.domain import SYSTEM_ACTOR, ComponentType, MeasurementType, SwitchStatus
from core.errors import InvalidInput, UnknownSubstation
from core.grid.components import ComponentRecord
from core.grid.substations import Connection, Latest, Member, SubstationView, read_substation
from core.measurements.measurements import add_measurement
from core.seed import seed_grid
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


def _parse(svg: str) -> ET.Element:
    """``svg`` as a tree, read by expat (a parse error fails the test: not well-formed XML);
    names in the SVG namespace come as ``{namespace}tag``, as ElementTree spells them."""
    builder = ET.TreeBuilder()

    def start(name: str, attributes: dict[str, str]) -> None:
        builder.start("{" + name if "}" in name else name, attributes)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end("{" + name if "}" in name else name)
    parser.CharacterDataHandler = builder.data
    parser.Parse(svg.encode(), True)
    return builder.close()


def _visible(text: ET.Element) -> str:
    """A <text>'s characters as drawn: its tooltip (<title>) is not drawn."""
    return (text.text or "") + "".join(child.tail or "" for child in text)


def _texts(root: ET.Element) -> list[str]:
    return [_visible(t) for t in root.iter(f"{SVG}text")]


def _bays(root: ET.Element) -> dict[int, ET.Element]:
    return {
        int(g.attrib["data-component"]): g
        for g in root.iter(f"{SVG}g")
        if "data-component" in g.attrib
    }


def _boxes(root: ET.Element) -> list[tuple[float, float, float, float, str]]:
    """Each text's box, estimated from its font size and length (monospace cells)."""
    boxes = []
    for text in root.iter(f"{SVG}text"):
        shown, size = _visible(text), float(text.attrib["font-size"])
        x, y = float(text.attrib["x"]), float(text.attrib["y"])
        width = text_width(shown, int(size))
        left = x - width / 2 if text.attrib["text-anchor"] == "middle" else x
        boxes.append((left, y - 0.8 * size, left + width, y + 0.2 * size, shown))
    return boxes


def assert_no_label_overlaps(svg: str) -> None:
    root = _parse(svg)
    width, height = float(root.attrib["width"]), float(root.attrib["height"])
    boxes = _boxes(root)
    outside = [b[4] for b in boxes if b[0] < 0 or b[2] > width or b[1] < 0 or b[3] > height]
    assert outside == []
    overlapping = [
        (a[4], b[4])
        for a, b in combinations(boxes, 2)
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]
    assert overlapping == []


def _measure(db, component_id, kind, value, moment=NOW):
    with db.write() as session:
        add_measurement(
            session=session, actor=MANAGER, component_id=component_id,
            measurement_type=kind, timestamp=moment, value=value,
        )  # fmt: skip


def _diagram(db, name):
    with db.read() as session:
        return substation_diagram(session=session, name=name)


def test_each_component_is_one_symbol_with_its_state_and_every_label(db):
    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE, to_substation="Hilltop")
    opened = make_component(db, SWITCH, name="S1", status="open")
    closed = make_component(db, SWITCH, name="S2", status="closed")
    arriving = make_component(db, LINE, name="L5", substation="Seaside", to_substation="Riverside")
    _measure(db, transformer.id, "voltage", 110.25)
    _measure(db, transformer.id, "power", 12.5)
    _measure(db, line.id, "current", 231)
    _measure(db, arriving.id, "voltage", 20.1)

    root = _parse(_diagram(db, "Riverside"))

    bays = _bays(root)
    assert sorted(bays) == sorted(c.id for c in (transformer, line, opened, closed, arriving))
    assert bays[transformer.id].attrib["class"] == "bay transformer"
    assert len(list(bays[transformer.id].iter(f"{SVG}circle"))) == 2  # two windings
    assert bays[line.id].attrib["class"] == bays[arriving.id].attrib["class"] == "bay feeder"
    assert bays[opened.id].attrib["data-state"] == "open"
    assert bays[closed.id].attrib["data-state"] == "closed"
    levels = [
        _visible(t) for t in root.iter(f"{SVG}text") if t.attrib["font-size"] == "12"
    ]  # the bars' labels
    assert levels == ["110 kV", "20 kV", "Switches"]
    assert len([line for line in root.iter(f"{SVG}line") if line.get("class") == "busbar"]) == 2
    texts = _texts(root)
    for label in (
        "Riverside", "T1", "40 MVA · 110 kV", "U 110.2 kV", "P 12.5 MW",
        "at 2024-05-10 12:00:00 UTC", "L1", "12.5 km · 20 kV", "to Hilltop", "I 231 A",
        "L5", "from Seaside", "U 20.1 kV", "S1", "open", "S2", "closed",
    ):  # fmt: skip
        assert label in texts
    links = {a.attrib["href"] for a in root.iter(f"{SVG}a")}
    assert links == {
        *(f"component?component={b}" for b in bays),
        "substation?name=Hilltop",
        "substation?name=Seaside",
    }


def test_values_taken_at_different_times_say_both(db):
    transformer = make_component(db, TRANSFORMER)
    _measure(db, transformer.id, "voltage", 110, moment=datetime(2024, 5, 9, 23, tzinfo=UTC))
    _measure(db, transformer.id, "power", 3)
    texts = _texts(_parse(_diagram(db, "Riverside")))
    assert "2024-05-09 23:00:00 UTC to" in texts
    assert "2024-05-10 12:00:00 UTC" in texts


def test_an_unknown_substation_is_refused(db):
    make_component(db, TRANSFORMER)
    with pytest.raises(UnknownSubstation):
        _diagram(db, "Nowhere")


def test_every_substation_of_the_demo_grid_draws_without_overlapping_labels(db):
    with db.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=100, per_component=3)
        names = sorted({c.substation for c in session.query(_component_model()).all()})
    sizes = set()
    for name in names:
        with db.read() as session:
            view = read_substation(session=session, name=name)
        sizes.add(len(view.members) + len(view.connections))
        svg = substation_svg(view)
        assert len(_bays(_parse(svg))) == len(view.members) + sum(
            not c.starts_here for c in view.connections
        )
        assert_no_label_overlaps(svg)
    assert len(sizes) > 3  # substations of several sizes were drawn


def _component_model():
    from core.models import Component

    return Component


def _record(number: int, kind: ComponentType, name: str, **fields) -> ComponentRecord:
    return ComponentRecord(
        id=number, name=name, substation="Big", component_type=kind,
        capacity_mva=fields.get("capacity_mva"), voltage_kv=fields.get("voltage_kv"),
        length_km=fields.get("length_km"), status=fields.get("status"),
        created_at=NOW, created_by="mona", updated_at=NOW, updated_by="mona",
        to_substation=fields.get("to_substation"),
    )  # fmt: skip


def sixty_components(name_of=lambda kind, n: f"{kind.value[0].upper()}{n}") -> SubstationView:
    """A substation of 60 components over three levels, every value measured at two times."""
    latest = {
        MeasurementType.VOLTAGE: Latest(109.87654, NOW.replace(hour=11)),
        MeasurementType.CURRENT: Latest(1234.5, NOW),
        MeasurementType.POWER: Latest(-45.678, NOW),
    }
    members, connections = [], []
    for n in range(60):
        kind = (ComponentType.TRANSFORMER, ComponentType.LINE, ComponentType.SWITCH)[n % 3]
        level = (380.0, 110.0, 20.0)[n % 5 % 3]
        record = _record(
            n + 1, kind, name_of(kind, n), voltage_kv=None if n % 3 == 2 else level,
            capacity_mva=250.0 if n % 3 == 0 else None, length_km=12.75 if n % 3 == 1 else None,
            status=(SwitchStatus.OPEN, SwitchStatus.CLOSED)[n % 2] if n % 3 == 2 else None,
            to_substation=f"Far end {n}" if n % 3 == 1 else None,
        )  # fmt: skip
        members.append(Member(record, latest))
        if kind is ComponentType.LINE:
            connections.append(Connection(record, record.to_substation, True, latest))
    return SubstationView(name="Big", members=members, connections=connections)


def test_sixty_components_wrap_into_rows_without_overlapping_labels():
    svg = substation_svg(sixty_components())
    root = _parse(svg)
    assert len(_bays(root)) == 60
    assert float(root.attrib["width"]) <= 100 + COLUMNS * 190 + 20
    assert_no_label_overlaps(svg)


def test_long_and_wide_names_are_cut_to_their_bay_and_kept_whole_in_a_tooltip():
    long_name = "Umspannwerk-Nord-" * 12
    wide = "変電所" * 20
    view = sixty_components(lambda kind, n: (long_name, wide)[n % 2] + str(n))
    svg = substation_svg(view)
    assert_no_label_overlaps(svg)
    tips = {t.text for t in _parse(svg).iter(f"{SVG}title")}
    assert f"{long_name}0" in tips and f"{wide}1" in tips


HOSTILE = '<script>alert(1)</script>"\'&amp;]]><a href="javascript:alert(2)">x</a>'
WRITTEN = {"svg", "title", "rect", "text", "line", "g", "a", "circle", "polygon"}
ATTRIBUTES = {
    "xmlns", "width", "height", "viewBox", "font-family", "role", "aria-label", "x", "y", "x1",
    "y1", "x2", "y2", "cx", "cy", "r", "points", "fill", "fill-opacity", "stroke",
    "stroke-width", "font-size", "font-weight", "text-anchor", "href", "class",
    "data-component", "data-state",
}  # fmt: skip


def hostile_view() -> SubstationView:
    def record(number, kind, **fields):
        return _record(number, kind, f"{HOSTILE}{number}", **fields)

    transformer = record(1, ComponentType.TRANSFORMER, capacity_mva=40.0, voltage_kv=110.0)
    line = record(2, ComponentType.LINE, length_km=3.0, voltage_kv=20.0, to_substation=HOSTILE)
    switch = record(3, ComponentType.SWITCH, status=SwitchStatus.OPEN)
    members = [Member(c, {}) for c in (transformer, line, switch)]
    return SubstationView(
        name=HOSTILE, members=members, connections=[Connection(line, HOSTILE, True, {})]
    )


def assert_only_what_gridboard_writes(root: ET.Element) -> None:
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags <= WRITTEN
    attributes = {name for element in root.iter() for name in element.attrib}
    assert attributes <= ATTRIBUTES
    for link in root.iter(f"{SVG}a"):
        assert link.attrib["href"].startswith(("component?component=", "substation?name="))


def test_hostile_names_are_text_in_the_svg():
    svg = substation_svg(hostile_view())
    root = _parse(svg)
    assert_only_what_gridboard_writes(root)
    tips = {t.text for t in root.iter(f"{SVG}title")}
    assert HOSTILE in tips  # the title's whole text, character for character
    assert f"{HOSTILE}1" in tips  # the transformer's name
    assert "to " + HOSTILE[:20] in {t[:23] for t in _texts(root)}
    hrefs = {a.attrib["href"] for a in root.iter(f"{SVG}a")}
    assert f"substation?name={quote(HOSTILE, safe='')}" in hrefs  # the far end, quoted whole


def test_the_same_model_gives_the_same_bytes():
    assert substation_svg(sixty_components()) == substation_svg(sixty_components())


def test_a_component_in_alarm_is_drawn_in_its_severitys_colour():
    view = sixty_components()
    root = _parse(substation_svg(view, severities={1: "alarm", 2: "warning"}))
    symbols = {
        cid: symbol.attrib["stroke"]
        for cid, bay in _bays(root).items()
        for symbol in bay.iter(f"{SVG}g")
        if symbol.get("class") == "symbol"
    }
    assert symbols[1] == SEVERITY_COLOURS["alarm"]
    assert symbols[2] == SEVERITY_COLOURS["warning"]
    assert symbols[3] not in SEVERITY_COLOURS.values()
    with pytest.raises(InvalidInput, match="unknown severity 'purple'"):
        substation_svg(view, severities={1: "purple"})


def test_a_component_in_an_active_alarm_is_coloured_where_the_diagram_is_drawn(db):
    """The page, the API and the CLI draw through ``substation_diagram``: a transformer whose
    voltage is outside its default band is drawn in the alarm's colour, a shelved one is not."""
    hot = make_component(db, TRANSFORMER, name="T-hot")
    calm = make_component(db, TRANSFORMER, name="T-calm")
    with db.write() as session:
        for component in (hot, calm):
            add_measurement(
                session=session, actor=MANAGER, component_id=component.id,
                measurement_type="voltage", timestamp="2024-05-01T00:00:00Z",
                value=130.0 if component is hot else 110.0,
            )  # fmt: skip

    def strokes() -> dict[int, str]:
        with db.read() as session:
            root = _parse(substation_diagram(session=session, name="Riverside"))
        return {
            cid: symbol.attrib["stroke"]
            for cid, bay in _bays(root).items()
            for symbol in bay.iter(f"{SVG}g")
            if symbol.get("class") == "symbol"
        }

    drawn = strokes()
    assert drawn[hot.id] == SEVERITY_COLOURS["alarm"]
    assert drawn[calm.id] not in SEVERITY_COLOURS.values()
    with db.write() as session:
        for alarm in list_alarms(session=session, component_id=hot.id).alarms:
            shelve_alarm(
                session=session, actor=MANAGER, alarm_id=alarm.id,
                until=datetime.now(UTC) + timedelta(hours=1), reason="feeder works",
            )  # fmt: skip
    assert strokes()[hot.id] not in SEVERITY_COLOURS.values()
